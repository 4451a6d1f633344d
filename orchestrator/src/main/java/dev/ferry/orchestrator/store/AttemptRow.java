package dev.ferry.orchestrator.store;

import java.time.Instant;
import java.util.UUID;

/**
 * A row of {@code ferry.job_attempts}. {@code outcome} null means "started, not finished". {@link
 * #started} and {@link #ended} build the two kinds.
 */
public record AttemptRow(
    UUID jobId,
    int attempt,
    String workerId,
    Instant startedAt,
    Instant finishedAt,
    String outcome,
    String error) {

  /** An attempt a worker has started and not finished. */
  public static AttemptRow started(UUID jobId, int attempt, String workerId, Instant startedAt) {
    return new AttemptRow(jobId, attempt, workerId, startedAt, null, null, null);
  }

  /** A finished attempt with its outcome ({@code SUCCEEDED}, {@code WORKER_LOST} …). */
  public static AttemptRow ended(
      UUID jobId,
      int attempt,
      String workerId,
      Instant startedAt,
      Instant finishedAt,
      String outcome,
      String error) {
    return new AttemptRow(jobId, attempt, workerId, startedAt, finishedAt, outcome, error);
  }
}
