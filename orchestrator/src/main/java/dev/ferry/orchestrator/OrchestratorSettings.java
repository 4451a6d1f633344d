package dev.ferry.orchestrator;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.JobDefaults;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.retry.BackoffPolicy;
import java.time.Duration;
import java.util.function.Function;

/**
 * Everything the orchestrator needs to know, validated once at start.
 *
 * @param groupPrefix prefix of the consumer group ids (the topic prefix)
 * @param jobDefaults defaults for a job type (per-type overrides applied)
 * @param intakeDispatch whether intake puts jobs that are due at once on the work topic itself
 * @param maxRecordBytes the largest record its producers send (Kafka's {@code max.request.size},
 *     {@code kafka.max.request.size}): a work item or DLQ record over it is refused by Kafka, so
 *     Ferry fails or trims it with the reason instead of retrying it
 */
public record OrchestratorSettings(
    Topics topics,
    String groupPrefix,
    SubmissionLimits limits,
    Function<String, JobDefaults> jobDefaults,
    BackoffPolicy defaultBackoff,
    int dispatchBatchSize,
    Duration dispatchPollInterval,
    boolean migrate,
    Duration rescueAfter,
    Duration rescuePollInterval,
    int poisonMaxCrashes,
    boolean intakeDispatch,
    int maxRecordBytes,
    Duration priorityAging) {

  /** Kafka's own default {@code max.request.size}, used when none is set: 1 MiB. */
  private static final int KAFKA_DEFAULT_MAX_REQUEST_SIZE = 1_048_576;

  /** The smallest {@code kafka.max.request.size} accepted: 4,096 bytes. */
  private static final int MIN_MAX_REQUEST_SIZE = 4096;

  /** Room left in a record for its key, headers and Kafka's framing: 1,024 bytes. */
  private static final int RECORD_OVERHEAD = 1024;

  /** The largest encoded work item (value bytes) that fits a record. */
  public int maxWorkItemBytes() {
    return maxRecordBytes - RECORD_OVERHEAD;
  }

  public static OrchestratorSettings from(FerryConfig c) {
    return new OrchestratorSettings(
        Topics.withPrefix(c.topicPrefix()),
        c.topicPrefix(),
        c.submissionLimits(),
        c::jobDefaults,
        c.jobDefaults(null).backoff(),
        c.getInt(Setting.DISPATCH_BATCH_SIZE),
        Duration.ofMillis(c.getInt(Setting.DISPATCH_POLL_MS)),
        c.getBoolean(Setting.ORCHESTRATOR_MIGRATE),
        Duration.ofMillis(c.getInt(Setting.RESCUE_AFTER_MS)),
        Duration.ofMillis(c.getInt(Setting.RESCUE_POLL_MS)),
        c.getInt(Setting.POISON_MAX_CRASHES),
        c.getBoolean(Setting.INTAKE_DISPATCH),
        maxRequestSize(c),
        Duration.ofMillis(c.getLong(Setting.PRIORITY_AGING_MS)));
  }

  private static int maxRequestSize(FerryConfig c) {
    String v = c.kafkaProperties().get("max.request.size");
    if (v == null) {
      return KAFKA_DEFAULT_MAX_REQUEST_SIZE;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= MIN_MAX_REQUEST_SIZE) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new dev.ferry.core.config.ConfigException(
        "kafka.max.request.size must be an integer >= "
            + MIN_MAX_REQUEST_SIZE
            + " but was '"
            + v
            + "'");
  }
}
