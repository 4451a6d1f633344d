package dev.ferry.orchestrator.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;
import dev.ferry.orchestrator.store.JobRow;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TransitionsTest {
  private static final BackoffPolicy FIXED_100 =
      new BackoffPolicy(BackoffStrategy.FIXED, 100, 1.0, 100, 0);
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private final Transitions transitions = new Transitions(BackoffPolicy.DEFAULT);
  private final UUID id = UUID.randomUUID();

  private JobRow job(JobStatus status, int attempts, long run, int max) {
    return new JobRow(id, null, status, attempts, run, max, FIXED_100, null, "t");
  }

  private AttemptReport report(int attempt, long run, Outcome o) {
    return new AttemptReport(id, attempt, run, "w1", T0, T0.plusMillis(50), o);
  }

  private Decision decide(JobRow j, AttemptReport r) {
    return transitions.decide(j, r, T0.plusSeconds(1), new SplittableRandom(1)).orElse(null);
  }

  @Test
  void startNotice_movesQueuedToRunning() {
    Decision d = decide(job(JobStatus.QUEUED, 1, 1, 3), AttemptReport.started(id, 1, 1, "w1", T0));
    assertThat(d.change().status()).isEqualTo(JobStatus.RUNNING);
    assertThat(d.change().workerId()).isEqualTo("w1");
    assertThat(d.attempt().outcome()).isNull();
    assertThat(d.event()).isNull();
    assertThat(decide(job(JobStatus.RUNNING, 1, 1, 3), AttemptReport.started(id, 1, 1, "w1", T0)))
        .isNull();
  }

  @Test
  void success_isTerminalWithResult() {
    Decision d =
        decide(
            job(JobStatus.RUNNING, 1, 1, 3),
            report(1, 1, new Outcome.Succeeded(FerryJson.parse("{\"a\":1}"))));
    assertThat(d.change().status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(d.change().resultJson()).isEqualTo("{\"a\":1}");
    assertThat(d.change().finishedAt()).isEqualTo(T0.plusMillis(50));
    assertThat(d.event().status()).isEqualTo(JobStatus.SUCCEEDED);
  }

  @Test
  void retryableFailure_waitsTheBackoffFromTheEndOfTheAttempt() {
    Decision d =
        decide(job(JobStatus.RUNNING, 1, 1, 3), report(1, 1, new Outcome.Failed("boom", true)));
    assertThat(d.change().status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(d.change().nextRunAt()).isEqualTo(T0.plusMillis(150));
    assertThat(d.change().attempts()).isEqualTo(1);
    assertThat(d.attempt().outcome()).isEqualTo("FAILED");
    assertThat(d.event().status()).isEqualTo(JobStatus.RETRY_WAIT);
  }

  @Test
  void timeout_isRetried() {
    Decision d =
        decide(
            job(JobStatus.RUNNING, 2, 2, 3),
            report(2, 2, new Outcome.TimedOut("timed out after 10 ms")));
    assertThat(d.change().status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(d.attempt().outcome()).isEqualTo("TIMED_OUT");
  }

  @Test
  void exhaustedAttempts_failWithLastError() {
    Decision d =
        decide(job(JobStatus.RUNNING, 3, 3, 3), report(3, 3, new Outcome.Failed("boom", true)));
    assertThat(d.change().status()).isEqualTo(JobStatus.FAILED);
    assertThat(d.change().lastError()).isEqualTo("attempt 3 of 3: boom");
    assertThat(d.event().status()).isEqualTo(JobStatus.FAILED);
    assertThat(d.event().error()).isEqualTo("attempt 3 of 3: boom");
  }

  @Test
  void nonRetryable_failsAtOnce() {
    Decision d =
        decide(
            job(JobStatus.RUNNING, 1, 1, 5), report(1, 1, new Outcome.Failed("http 404", false)));
    assertThat(d.change().status()).isEqualTo(JobStatus.FAILED);
    assertThat(d.attempt().outcome()).isEqualTo("NON_RETRYABLE");
  }

  @Test
  void deferral_givesTheAttemptBack() {
    Instant until = T0.plusSeconds(30);
    Decision d =
        decide(
            job(JobStatus.RUNNING, 2, 5, 3), report(2, 5, new Outcome.Deferred(until, "snoozed")));
    assertThat(d.change().status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(d.change().attempts()).isEqualTo(1);
    assertThat(d.change().nextRunAt()).isEqualTo(until);
    assertThat(d.givesBackAttempt()).isTrue();
  }

  @Test
  void staleDuplicateOrFinished_areIgnored() {
    Outcome ok = new Outcome.Succeeded(null);
    assertThat(decide(job(JobStatus.RUNNING, 2, 2, 3), report(1, 1, ok)))
        .as("older attempt")
        .isNull();
    assertThat(decide(job(JobStatus.RUNNING, 2, 3, 3), report(2, 2, ok))).as("older run").isNull();
    assertThat(decide(job(JobStatus.SUCCEEDED, 2, 2, 3), report(2, 2, ok))).as("finished").isNull();
    assertThat(decide(job(JobStatus.RETRY_WAIT, 2, 2, 3), report(2, 2, ok))).as("waiting").isNull();
    assertThat(decide(job(JobStatus.CANCELLED, 1, 1, 3), report(1, 1, ok)))
        .as("cancelled")
        .isNull();
  }

  @Test
  void jobWithoutOwnPolicy_usesTheDefault() {
    JobRow j = new JobRow(id, null, JobStatus.RUNNING, 1, 1, 3, null, null, "t");
    Decision d = decide(j, report(1, 1, new Outcome.Failed("x", true)));
    long delay = d.change().nextRunAt().toEpochMilli() - T0.plusMillis(50).toEpochMilli();
    assertThat(delay).isBetween(1000L, 1100L);
  }
}
