package dev.ferry.orchestrator.store;

import java.time.Instant;
import java.util.UUID;

/**
 * A row of {@code ferry.job_attempts}. {@code outcome} null means "started, not finished".
 */
public record AttemptRow(
    UUID jobId, int attempt, String workerId, Instant startedAt, Instant finishedAt,
    String outcome, String error) {}
