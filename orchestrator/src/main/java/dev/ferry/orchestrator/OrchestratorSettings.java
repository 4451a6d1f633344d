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
    boolean intakeDispatch) {

  public static OrchestratorSettings from(FerryConfig c) {
    return new OrchestratorSettings(
        Topics.withPrefix(c.topicPrefix()),
        c.topicPrefix(),
        c.submissionLimits(),
        c::jobDefaults,
        c.jobDefaults(null).backoff(),
        c.getInt(Setting.DISPATCH_BATCH_SIZE, 1, 100_000),
        Duration.ofMillis(c.getInt(Setting.DISPATCH_POLL_MS, 10, 3_600_000)),
        c.getBoolean(Setting.ORCHESTRATOR_MIGRATE),
        Duration.ofMillis(c.getInt(Setting.RESCUE_AFTER_MS, 100, Integer.MAX_VALUE)),
        Duration.ofMillis(c.getInt(Setting.RESCUE_POLL_MS, 10, 3_600_000)),
        c.getInt(Setting.POISON_MAX_CRASHES, 1, 1_000),
        c.getBoolean(Setting.INTAKE_DISPATCH));
  }
}
