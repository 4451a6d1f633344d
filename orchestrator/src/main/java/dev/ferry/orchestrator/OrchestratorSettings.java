package dev.ferry.orchestrator;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.retry.BackoffPolicy;
import java.time.Duration;

/**
 * Everything the orchestrator needs to know, validated once at start.
 *
 * @param groupPrefix prefix of the consumer group ids (the topic prefix)
 */
public record OrchestratorSettings(
    Topics topics,
    String groupPrefix,
    SubmissionLimits limits,
    int defaultMaxAttempts,
    int defaultTimeoutMs,
    BackoffPolicy defaultBackoff,
    int dispatchBatchSize,
    Duration dispatchPollInterval,
    boolean migrate) {

  public static OrchestratorSettings from(FerryConfig c) {
    return new OrchestratorSettings(
        Topics.withPrefix(c.topicPrefix()),
        c.topicPrefix(),
        c.submissionLimits(),
        c.getInt(Setting.JOB_MAX_ATTEMPTS, 1, 10_000),
        c.getInt(Setting.JOB_TIMEOUT_MS, 1, Integer.MAX_VALUE),
        c.backoff(),
        c.getInt(Setting.DISPATCH_BATCH_SIZE, 1, 100_000),
        Duration.ofMillis(c.getInt(Setting.DISPATCH_POLL_MS, 10, 3_600_000)),
        c.getBoolean(Setting.ORCHESTRATOR_MIGRATE));
  }
}
