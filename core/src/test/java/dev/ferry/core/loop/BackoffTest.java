package dev.ferry.core.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesWithJitterUpToTheMaxAndResets() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(700));
    long[] steps = {100, 200, 400, 700, 700};
    for (long step : steps) {
      assertThat(b.currentStepMs()).isEqualTo(step);
      assertThat(b.next()).isBetween(step, step + step / 2);
    }
    b.reset();
    assertThat(b.currentStepMs()).isEqualTo(100);
  }

  @Test
  void rejectsAnEmptyOrInvertedRange() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void awaitEndsAtOnceWhenStopped() throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    assertThat(Backoff.await(stopped, 1)).isFalse();
    stopped.countDown();
    assertThat(Backoff.await(stopped, 60_000)).isTrue();
  }
}
