package dev.ferry.orchestrator.rescue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;
import dev.ferry.orchestrator.store.JobRow;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RescuePolicyTest {
  private static final BackoffPolicy FIXED_100 =
      new BackoffPolicy(BackoffStrategy.FIXED, 100, 1.0, 100, 0);
  private static final Instant T0 = Instant.parse("2026-11-28T08:00:00Z");
  private final RescuePolicy policy = new RescuePolicy(3, BackoffPolicy.DEFAULT);
  private final UUID id = UUID.randomUUID();

  private JobRow job(int attempts, int max, BackoffPolicy backoff) {
    return new JobRow(id, null, JobStatus.RUNNING, attempts, 7, max, backoff, null, "t");
  }

  private RescuePolicy.Stuck stuck(int crashes, boolean restarted) {
    return new RescuePolicy.Stuck(id, crashes, "w1", T0.minusSeconds(60), 42, restarted);
  }

  private RescuePolicy.TakeBack decide(JobRow j, RescuePolicy.Stuck s) {
    return policy.decide(j, s, T0, new SplittableRandom(1));
  }

  @Test
  void silentWorker_jobIsRetriedAfterItsOwnBackoff() {
    RescuePolicy.TakeBack t = decide(job(1, 3, FIXED_100), stuck(0, false));
    assertThat(t.status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(t.failed()).isFalse();
    assertThat(t.run()).isEqualTo(7);
    assertThat(t.nextRunAt()).isEqualTo(T0.plusMillis(100));
    assertThat(t.finishedAt()).isNull();
    assertThat(t.error())
        .isEqualTo("worker w1 died while running attempt 1 (no heartbeat for 42 s)")
        .isEqualTo(t.attemptError());
  }

  @Test
  void restartedWorker_saysSo() {
    assertThat(decide(job(1, 3, FIXED_100), stuck(0, true)).error())
        .isEqualTo("worker w1 died while running attempt 1 (it restarted since)");
  }

  @Test
  void withoutBackoffOfItsOwn_theDefaultApplies() {
    RescuePolicy.TakeBack t = decide(job(1, 3, null), stuck(0, false));
    assertThat(t.status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(t.nextRunAt()).isAfter(T0);
  }

  @Test
  void attemptsUsedUp_jobFails() {
    RescuePolicy.TakeBack t = decide(job(3, 3, FIXED_100), stuck(0, false));
    assertThat(t.failed()).isTrue();
    assertThat(t.finishedAt()).isEqualTo(T0);
    assertThat(t.nextRunAt()).isNull();
    assertThat(t.error())
        .isEqualTo(
            "attempt 3 of 3: worker w1 died while running attempt 3 (no heartbeat for 42 s)");
    assertThat(t.attemptError())
        .isEqualTo("worker w1 died while running attempt 3 (no heartbeat for 42 s)");
  }

  @Test
  void poison_theCrashThatReachesTheLimitFails_evenWithAttemptsLeft() {
    assertThat(decide(job(1, 10, FIXED_100), stuck(1, false)).status())
        .isEqualTo(JobStatus.RETRY_WAIT);
    RescuePolicy.TakeBack t = decide(job(2, 10, FIXED_100), stuck(2, false));
    assertThat(t.status()).isEqualTo(JobStatus.FAILED);
    assertThat(t.error())
        .isEqualTo(
            "poison: 3 workers died while running this job; not"
                + " retried (worker w1 died while running attempt 2 (no heartbeat for 42 s))");
  }
}
