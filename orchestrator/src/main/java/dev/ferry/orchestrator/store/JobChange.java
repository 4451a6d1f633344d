package dev.ferry.orchestrator.store;

import dev.ferry.core.model.JobStatus;
import java.time.Instant;
import java.util.UUID;

/**
 * A guarded update of one job: applied only if the job still has {@code expectedStatus} and
 * {@code expectedRun} (the fencing token of its current dispatch), so a duplicate or stale
 * outcome changes nothing.
 *
 * @param attempts the attempts count to store (lower than expected when a deferral gives the
 *     attempt back)
 * @param nextRunAt null keeps the current value
 */
public record JobChange(
    UUID id,
    JobStatus expectedStatus,
    int expectedAttempts,
    long expectedRun,
    JobStatus status,
    int attempts,
    Instant nextRunAt,
    String resultJson,
    String lastError,
    String workerId,
    Instant startedAt,
    Instant finishedAt) {}
