package dev.ferry.orchestrator.store;

import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import java.util.UUID;

/**
 * The columns of a job that deciding an outcome needs, read under a row lock. {@code constrained}:
 * whether it has a concurrency key or a dependency with limits, so its end frees capacity the
 * dispatcher waits for.
 */
public record JobRow(
    UUID id,
    UUID parentId,
    JobStatus status,
    int attempts,
    long runSeq,
    int maxAttempts,
    BackoffPolicy backoff,
    String traceparent,
    String type,
    boolean constrained) {

  public JobRow(
      UUID id,
      UUID parentId,
      JobStatus status,
      int attempts,
      long runSeq,
      int maxAttempts,
      BackoffPolicy backoff,
      String traceparent,
      String type) {
    this(id, parentId, status, attempts, runSeq, maxAttempts, backoff, traceparent, type, false);
  }
}
