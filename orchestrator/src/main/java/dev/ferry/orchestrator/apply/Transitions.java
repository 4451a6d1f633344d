package dev.ferry.orchestrator.apply;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.RetryDelays;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobChange;
import dev.ferry.orchestrator.store.JobRow;
import java.time.Instant;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The job state machine for attempt reports, as a pure function of (job, report, now, random).
 * A report applies only to the job's current dispatch (same attempt and run) while it is
 * {@code QUEUED} or {@code RUNNING}; anything else (a duplicate, an older attempt or dispatch, a
 * finished job) is ignored.
 */
final class Transitions {
  private final BackoffPolicy defaultBackoff;

  Transitions(BackoffPolicy defaultBackoff) {
    this.defaultBackoff = defaultBackoff;
  }

  Optional<Decision> decide(JobRow job, AttemptReport r, Instant now, RandomGenerator random) {
    boolean live = job.status() == JobStatus.QUEUED || job.status() == JobStatus.RUNNING;
    if (!live || job.attempts() != r.attempt() || job.runSeq() != r.run()) {
      return Optional.empty();
    }
    if (r.isStartNotice()) {
      if (job.status() != JobStatus.QUEUED) {
        return Optional.empty();
      }
      JobChange change =
          new JobChange(job.id(), job.status(), job.attempts(), job.runSeq(), JobStatus.RUNNING, job.attempts(),
              null, null, null, r.workerId(), r.startedAt(), null);
      AttemptRow row =
          new AttemptRow(job.id(), r.attempt(), r.workerId(), r.startedAt(), null, null, null);
      return Optional.of(new Decision(change, row, null, false));
    }
    Instant finished = r.finishedAt() == null ? now : r.finishedAt();
    return Optional.of(
        switch (r.outcome()) {
          case Outcome.Succeeded s ->
              terminal(job, r, finished, JobStatus.SUCCEEDED, "SUCCEEDED",
                  FerryJson.text(s.result()), null, s.result());
          case Outcome.Failed f when !f.retryable() ->
              terminal(job, r, finished, JobStatus.FAILED, "NON_RETRYABLE", null, f.error(), null);
          case Outcome.Failed f -> retryOrFail(job, r, finished, "FAILED", f.error(), random);
          case Outcome.TimedOut t -> retryOrFail(job, r, finished, "TIMED_OUT", t.error(), random);
          case Outcome.Spawned s -> {
            JobChange change =
                new JobChange(job.id(), job.status(), job.attempts(), job.runSeq(),
                    JobStatus.WAITING_CHILDREN, job.attempts(), null, null, null, r.workerId(),
                    r.startedAt(), null);
            AttemptRow row =
                new AttemptRow(job.id(), r.attempt(), r.workerId(), r.startedAt(), finished,
                    "SPAWNED", null);
            yield new Decision(change, row,
                event(job, JobStatus.WAITING_CHILDREN, job.attempts(), null, null, finished),
                false, s.children());
          }
          case Outcome.Deferred d -> {
            JobChange change =
                new JobChange(job.id(), job.status(), job.attempts(), job.runSeq(), JobStatus.RETRY_WAIT,
                    job.attempts() - 1, d.until(), null, null, r.workerId(), r.startedAt(), null);
            AttemptRow row =
                new AttemptRow(job.id(), r.attempt(), r.workerId(), r.startedAt(), finished,
                    "DEFERRED", d.reason());
            yield new Decision(change, row,
                event(job, JobStatus.RETRY_WAIT, job.attempts() - 1, null, d.reason(), finished),
                true);
          }
        });
  }

  private Decision retryOrFail(
      JobRow job, AttemptReport r, Instant finished, String outcome, String error,
      RandomGenerator random) {
    if (job.attempts() >= job.maxAttempts()) {
      String last = "attempt " + job.attempts() + " of " + job.maxAttempts() + ": " + error;
      return terminal(job, r, finished, JobStatus.FAILED, outcome, null, last, null);
    }
    BackoffPolicy policy = job.backoff() == null ? defaultBackoff : job.backoff();
    Instant next = finished.plus(RetryDelays.delayAfter(job.attempts(), policy, random));
    JobChange change =
        new JobChange(job.id(), job.status(), job.attempts(), job.runSeq(), JobStatus.RETRY_WAIT,
            job.attempts(), next, null, error, r.workerId(), r.startedAt(), null);
    AttemptRow row =
        new AttemptRow(job.id(), r.attempt(), r.workerId(), r.startedAt(), finished, outcome,
            error);
    return new Decision(change, row,
        event(job, JobStatus.RETRY_WAIT, job.attempts(), null, error, finished), false);
  }

  private static Decision terminal(
      JobRow job, AttemptReport r, Instant finished, JobStatus status, String outcome,
      String resultJson, String error, com.fasterxml.jackson.databind.JsonNode result) {
    JobChange change =
        new JobChange(job.id(), job.status(), job.attempts(), job.runSeq(), status, job.attempts(), null,
            resultJson, error, r.workerId(), r.startedAt(), finished);
    AttemptRow row =
        new AttemptRow(job.id(), r.attempt(), r.workerId(), r.startedAt(), finished, outcome,
            error);
    return new Decision(change, row,
        event(job, status, job.attempts(), result, error, finished), false);
  }

  private static JobEvent event(
      JobRow job, JobStatus status, int attempt,
      com.fasterxml.jackson.databind.JsonNode result, String error, Instant at) {
    return new JobEvent(job.id(), job.parentId(), status, attempt, result, error, at);
  }
}
