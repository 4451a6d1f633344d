package dev.ferry.worker.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.Call;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The client's bounds, without a database (its threads are never started). */
class BreakerClientTest {
  private static final int CAP = 100;

  /** A clock the test moves. */
  private static final class ManualClock extends Clock {
    private volatile Instant now = Instant.parse("2026-12-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aFloodOfDependencies_keepsLocalStateBounded_andIdleStateIsForgotten() {
    ManualClock clock = new ManualClock();
    BreakerClient client = new BreakerClient(null, d -> BreakerConfig.DEFAULT, t -> {}, clock,
        Duration.ofMillis(50), CAP, WorkerMetrics.none());
    for (int i = 0; i < 10_000; i++) {
      String dep = "random-" + i + ".example:443";
      clock.advance(Duration.ofMillis(1));
      var d = (BreakerClient.Decision.Proceed) client.admit(dep);
      client.record(dep, Call.FAILURE, d);
    }
    assertThat(client.tracked()).isEqualTo(10_000);
    client.evict(clock.instant());
    assertThat(client.tracked()).isEqualTo(CAP);
    // The most recent ones are kept.
    assertThat(client.lastCallAt("random-9999.example:443")).isNotNull();
    assertThat(client.lastCallAt("random-0.example:443")).isNull();

    clock.advance(BreakerClient.IDLE.plusSeconds(1));
    client.evict(clock.instant());
    assertThat(client.tracked()).isZero();
    // Outcomes still wait for the database: one aggregate per dependency (never evicted).
    assertThat(client.pendingDependencies()).isEqualTo(10_000);
  }
}
