package dev.ferry.orchestrator.rescue;

import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.RetryDelays;
import dev.ferry.orchestrator.store.JobRow;
import java.time.Instant;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * What becomes of a job whose worker died while running it, as a pure function of (job, how it got
 * stuck, now, random): the crash counts; a job whose workers died {@code poisonCrashes} times ends
 * {@code FAILED} as poison, one whose attempts are used up ends {@code FAILED}, any other is
 * retried after its backoff (the job's own, else the default). Unit-tested without a database
 * ({@code RescuePolicyTest}); {@link Rescuer} runs the SQL.
 */
final class RescuePolicy {
  /**
   * A {@code RUNNING} job whose worker is silent, gone or restarted, as found by the rescuer.
   *
   * @param crashes workers that died running it before this one
   * @param silentS seconds since the worker's last heartbeat (or the job's last update)
   * @param restarted the worker restarted under the same id since the attempt started
   */
  record Stuck(
      UUID id, int crashes, String workerId, Instant startedAt, long silentS, boolean restarted) {}

  /**
   * What taking one job back does: its new status, when it runs again (retries only), its error,
   * when it finished (failures only), and why its attempt was lost (for the attempt row).
   */
  record TakeBack(
      UUID id,
      long run,
      JobStatus status,
      Instant nextRunAt,
      String error,
      Instant finishedAt,
      String attemptError) {
    /** Retried at {@code next}; the error is why the attempt was lost. */
    static TakeBack retrying(JobRow job, Instant next, String died) {
      return new TakeBack(job.id(), job.runSeq(), JobStatus.RETRY_WAIT, next, died, null, died);
    }

    /** Ended {@code FAILED} at {@code at} with {@code error}. */
    static TakeBack failing(JobRow job, Instant at, String error, String died) {
      return new TakeBack(job.id(), job.runSeq(), JobStatus.FAILED, null, error, at, died);
    }

    boolean failed() {
      return status == JobStatus.FAILED;
    }
  }

  private final int poisonCrashes;
  private final BackoffPolicy defaultBackoff;

  RescuePolicy(int poisonCrashes, BackoffPolicy defaultBackoff) {
    this.poisonCrashes = poisonCrashes;
    this.defaultBackoff = defaultBackoff;
  }

  TakeBack decide(JobRow job, Stuck s, Instant now, RandomGenerator random) {
    int crashes = s.crashes() + 1;
    String died =
        "worker "
            + s.workerId()
            + " died while running attempt "
            + job.attempts()
            + (s.restarted()
                ? " (it restarted since)"
                : " (no heartbeat for " + s.silentS() + " s)");
    if (crashes >= poisonCrashes) {
      return TakeBack.failing(
          job,
          now,
          "poison: "
              + crashes
              + " workers died while running this"
              + " job; not retried ("
              + died
              + ")",
          died);
    }
    if (job.attempts() >= job.maxAttempts()) {
      return TakeBack.failing(
          job, now, "attempt " + job.attempts() + " of " + job.maxAttempts() + ": " + died, died);
    }
    BackoffPolicy policy = job.backoff() == null ? defaultBackoff : job.backoff();
    Instant next = now.plus(RetryDelays.delayAfter(job.attempts(), policy, random));
    return TakeBack.retrying(job, next, died);
  }
}
