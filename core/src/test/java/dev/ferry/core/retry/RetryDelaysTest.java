package dev.ferry.core.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryDelaysTest {
  private static final SplittableRandom SEEDED = new SplittableRandom(42);

  @Test
  void exponential_doublesAndIsCapped() {
    BackoffPolicy p = new BackoffPolicy(BackoffStrategy.EXPONENTIAL, 1000, 2.0, 5000, 0);
    assertThat(RetryDelays.delayAfter(1, p, SEEDED)).isEqualTo(Duration.ofMillis(1000));
    assertThat(RetryDelays.delayAfter(2, p, SEEDED)).isEqualTo(Duration.ofMillis(2000));
    assertThat(RetryDelays.delayAfter(3, p, SEEDED)).isEqualTo(Duration.ofMillis(4000));
    assertThat(RetryDelays.delayAfter(4, p, SEEDED)).isEqualTo(Duration.ofMillis(5000));
    assertThat(RetryDelays.delayAfter(60, p, SEEDED)).isEqualTo(Duration.ofMillis(5000));
  }

  @Test
  void linearAndFixed() {
    BackoffPolicy linear = new BackoffPolicy(BackoffStrategy.LINEAR, 100, 1.0, 250, 0);
    assertThat(RetryDelays.delayAfter(2, linear, SEEDED)).isEqualTo(Duration.ofMillis(200));
    assertThat(RetryDelays.delayAfter(3, linear, SEEDED)).isEqualTo(Duration.ofMillis(250));
    BackoffPolicy fixed = new BackoffPolicy(BackoffStrategy.FIXED, 300, 1.0, 300, 0);
    assertThat(RetryDelays.delayAfter(7, fixed, SEEDED)).isEqualTo(Duration.ofMillis(300));
  }

  @Test
  void jitter_staysWithinBoundsAndSpreads() {
    BackoffPolicy p = new BackoffPolicy(BackoffStrategy.FIXED, 1000, 1.0, 1000, 0.1);
    SplittableRandom r = new SplittableRandom(7);
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (int i = 0; i < 10_000; i++) {
      long ms = RetryDelays.delayAfter(1, p, r).toMillis();
      min = Math.min(min, ms);
      max = Math.max(max, ms);
    }
    assertThat(min).isBetween(1000L, 1005L);
    assertThat(max).isBetween(1095L, 1100L);
  }

  @Test
  void defaults_matchTheDocumentation() {
    BackoffPolicy d = BackoffPolicy.DEFAULT;
    assertThat(d.strategy()).isEqualTo(BackoffStrategy.EXPONENTIAL);
    assertThat(d.initialMs()).isEqualTo(1000);
    assertThat(d.multiplier()).isEqualTo(2.0);
    assertThat(d.maxMs()).isEqualTo(300_000);
    assertThat(d.jitter()).isEqualTo(0.1);
  }

  @Test
  void invalidPolicies_areRejectedWithTheBadValue() {
    assertThatThrownBy(() -> new BackoffPolicy(BackoffStrategy.FIXED, -1, 1, 10, 0))
        .hasMessage("backoff.initialMs must be >= 0 but was -1");
    assertThatThrownBy(() -> new BackoffPolicy(BackoffStrategy.FIXED, 10, 0.5, 10, 0))
        .hasMessage("backoff.multiplier must be >= 1 but was 0.5");
    assertThatThrownBy(() -> new BackoffPolicy(BackoffStrategy.FIXED, 10, 1, 5, 0))
        .hasMessage("backoff.maxMs must be >= initialMs (10) but was 5");
    assertThatThrownBy(() -> new BackoffPolicy(BackoffStrategy.FIXED, 10, 1, 10, 1.5))
        .hasMessage("backoff.jitter must be in [0, 1] but was 1.5");
    assertThatThrownBy(() -> RetryDelays.delayAfter(0, BackoffPolicy.DEFAULT, SEEDED))
        .hasMessage("attempt must be >= 1 but was 0");
  }
}
