package dev.ferry.orchestrator.apply;

import com.fasterxml.jackson.databind.JsonNode;
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
 * The job state machine for attempt reports, as a pure function of (job, report, now, random). A
 * report applies only to the job's current dispatch (same attempt and run) while it is {@code
 * QUEUED} or {@code RUNNING}; anything else (a duplicate, an older attempt or dispatch, a finished
 * job) is ignored.
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
      return Optional.of(
          Decision.of(
              JobChange.started(job, r.workerId(), r.startedAt()),
              AttemptRow.started(job.id(), r.attempt(), r.workerId(), r.startedAt()),
              null));
    }
    Instant finished = r.finishedAt() == null ? now : r.finishedAt();
    return Optional.of(
        switch (r.outcome()) {
          case Outcome.Succeeded s ->
              Decision.of(
                  JobChange.succeeded(
                      job, FerryJson.text(s.result()), r.workerId(), r.startedAt(), finished),
                  ended(job, r, finished, "SUCCEEDED", null),
                  event(job, JobStatus.SUCCEEDED, job.attempts(), s.result(), null, finished));
          case Outcome.Failed f when !f.retryable() ->
              failed(job, r, finished, "NON_RETRYABLE", f.error());
          case Outcome.Failed f -> retryOrFail(job, r, finished, "FAILED", f.error(), random);
          case Outcome.TimedOut t -> retryOrFail(job, r, finished, "TIMED_OUT", t.error(), random);
          case Outcome.Spawned s ->
              Decision.spawning(
                  JobChange.waitingForChildren(job, r.workerId(), r.startedAt()),
                  ended(job, r, finished, "SPAWNED", null),
                  event(job, JobStatus.WAITING_CHILDREN, job.attempts(), null, null, finished),
                  s.children());
          case Outcome.Deferred d ->
              Decision.givingBack(
                  JobChange.deferred(job, d.until(), r.workerId(), r.startedAt()),
                  ended(job, r, finished, "DEFERRED", d.reason()),
                  event(job, JobStatus.RETRY_WAIT, job.attempts() - 1, null, d.reason(), finished));
        });
  }

  private Decision retryOrFail(
      JobRow job,
      AttemptReport r,
      Instant finished,
      String outcome,
      String error,
      RandomGenerator random) {
    if (job.attempts() >= job.maxAttempts()) {
      String last = "attempt " + job.attempts() + " of " + job.maxAttempts() + ": " + error;
      return failed(job, r, finished, outcome, last);
    }
    BackoffPolicy policy = job.backoff() == null ? defaultBackoff : job.backoff();
    Instant next = finished.plus(RetryDelays.delayAfter(job.attempts(), policy, random));
    return Decision.of(
        JobChange.retryAt(job, next, error, r.workerId(), r.startedAt()),
        ended(job, r, finished, outcome, error),
        event(job, JobStatus.RETRY_WAIT, job.attempts(), null, error, finished));
  }

  private static Decision failed(
      JobRow job, AttemptReport r, Instant finished, String outcome, String error) {
    return Decision.of(
        JobChange.failed(job, error, r.workerId(), r.startedAt(), finished),
        ended(job, r, finished, outcome, error),
        event(job, JobStatus.FAILED, job.attempts(), null, error, finished));
  }

  private static AttemptRow ended(
      JobRow job, AttemptReport r, Instant finished, String outcome, String error) {
    return AttemptRow.ended(
        job.id(), r.attempt(), r.workerId(), r.startedAt(), finished, outcome, error);
  }

  private static JobEvent event(
      JobRow job, JobStatus status, int attempt, JsonNode result, String error, Instant at) {
    return new JobEvent(job.id(), job.parentId(), status, attempt, result, error, at);
  }
}
