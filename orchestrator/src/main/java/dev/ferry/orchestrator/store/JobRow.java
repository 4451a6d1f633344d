package dev.ferry.orchestrator.store;

import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import java.util.UUID;

/** The columns of a job that deciding an outcome needs, read under a row lock. */
public record JobRow(
    UUID id,
    UUID parentId,
    JobStatus status,
    int attempts,
    long runSeq,
    int maxAttempts,
    BackoffPolicy backoff,
    String traceparent,
    String type) {}
