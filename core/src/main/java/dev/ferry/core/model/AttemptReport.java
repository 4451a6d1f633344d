package dev.ferry.core.model;

import java.time.Instant;
import java.util.UUID;

/**
 * What a worker tells the orchestrator about one attempt, on {@code ferry.results}: either a start
 * notice ({@code outcome == null}) or the attempt's outcome.
 */
public record AttemptReport(
    UUID jobId,
    int attempt,
    long run,
    String workerId,
    Instant startedAt,
    Instant finishedAt,
    Outcome outcome) {

  /** A notice that the attempt has started. */
  public static AttemptReport started(
      UUID jobId, int attempt, long run, String workerId, Instant at) {
    return new AttemptReport(jobId, attempt, run, workerId, at, null, null);
  }

  /** Whether this is a start notice rather than an outcome. */
  public boolean isStartNotice() {
    return outcome == null;
  }
}
