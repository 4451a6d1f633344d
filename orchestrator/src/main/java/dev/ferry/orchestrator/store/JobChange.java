package dev.ferry.orchestrator.store;

import dev.ferry.core.model.JobStatus;
import java.time.Instant;
import java.util.UUID;

/**
 * A guarded update of one job: applied only if the job still has {@code expectedStatus} and {@code
 * expectedRun} (the fencing token of its current dispatch), so a duplicate or stale outcome changes
 * nothing. Built through the named factories, one per transition; a null column keeps the job's
 * current value (see {@link JobStore#applyChanges}), except {@code finishedAt}, which is stored as
 * given.
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
    Instant finishedAt) {

  /** A worker started the job's current attempt: {@code QUEUED} → {@code RUNNING}. */
  public static JobChange started(JobRow job, String workerId, Instant startedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.RUNNING,
        job.attempts(),
        null,
        null,
        null,
        workerId,
        startedAt,
        null);
  }

  /** The attempt ended the job {@code SUCCEEDED} with its result. */
  public static JobChange succeeded(
      JobRow job, String resultJson, String workerId, Instant startedAt, Instant finishedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.SUCCEEDED,
        job.attempts(),
        null,
        resultJson,
        null,
        workerId,
        startedAt,
        finishedAt);
  }

  /** The attempt ended the job {@code FAILED} with the error. */
  public static JobChange failed(
      JobRow job, String error, String workerId, Instant startedAt, Instant finishedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.FAILED,
        job.attempts(),
        null,
        null,
        error,
        workerId,
        startedAt,
        finishedAt);
  }

  /** The attempt failed and the job is retried at {@code nextRunAt}. */
  public static JobChange retryAt(
      JobRow job, Instant nextRunAt, String error, String workerId, Instant startedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.RETRY_WAIT,
        job.attempts(),
        nextRunAt,
        null,
        error,
        workerId,
        startedAt,
        null);
  }

  /**
   * The handler deferred the job to {@code until}: it waits again and the attempt is given back
   * (attempts - 1).
   */
  public static JobChange deferred(JobRow job, Instant until, String workerId, Instant startedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.RETRY_WAIT,
        job.attempts() - 1,
        until,
        null,
        null,
        workerId,
        startedAt,
        null);
  }

  /** The handler spawned children: the job waits for them. */
  public static JobChange waitingForChildren(JobRow job, String workerId, Instant startedAt) {
    return new JobChange(
        job.id(),
        job.status(),
        job.attempts(),
        job.runSeq(),
        JobStatus.WAITING_CHILDREN,
        job.attempts(),
        null,
        null,
        null,
        workerId,
        startedAt,
        null);
  }

  /** A claimed job whose work item Kafka cannot take: {@code QUEUED} → {@code FAILED}. */
  public static JobChange unsendable(ClaimedJob job, String error, Instant at) {
    return new JobChange(
        job.id(),
        JobStatus.QUEUED,
        job.attempt(),
        job.run(),
        JobStatus.FAILED,
        job.attempt(),
        null,
        null,
        error,
        null,
        null,
        at);
  }
}
