package dev.ferry.worker.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.BreakerSnapshot;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.SlidingWindow;
import dev.ferry.worker.RefusingDataSource;
import dev.ferry.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * The client's local logic, without a database: decisions from its view, the local early stop, its
 * bounds (its threads are never started), and failures of its loops (a database that refuses every
 * connection).
 */
class BreakerClientTest {
  private static final int CAP = 100;
  private static final String DEP = "payments-api";

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

  private final ManualClock clock = new ManualClock();

  private BreakerClient client() {
    return new BreakerClient(
        null,
        d -> BreakerConfig.DEFAULT,
        t -> {},
        clock,
        Duration.ofMillis(50),
        CAP,
        WorkerMetrics.none());
  }

  private static BreakerSnapshot snapshot(
      BreakerState state,
      long generation,
      long epoch,
      Instant openedAt,
      Instant retryAt,
      BreakerState forced) {
    BreakerConfig c = BreakerConfig.DEFAULT;
    return new BreakerSnapshot(
        DEP,
        state,
        generation,
        epoch,
        SlidingWindow.empty(c.windowType(), c.windowSize()),
        openedAt,
        retryAt,
        0,
        0,
        0,
        forced,
        openedAt);
  }

  @Test
  void unknownDependency_proceedsUnguarded() {
    BreakerClient client = client();
    assertThat(client.admit(DEP)).isEqualTo(BreakerClient.Decision.Proceed.unguarded());
    assertThat(client.lastCallAt(DEP)).isEqualTo(clock.instant());
  }

  @Test
  void closedBreaker_proceedsInItsEpoch() {
    BreakerClient client = client();
    client.update(snapshot(BreakerState.CLOSED, 4, 9, null, null, null));
    assertThat(client.admit(DEP)).isEqualTo(new BreakerClient.Decision.Proceed(false, 9));
    assertThat(client.learnedAt(DEP)).isEqualTo(clock.instant());
  }

  @Test
  void openBreaker_defersToItsRetryTime_spreadOverAFifthOfItsOpenTime() {
    BreakerClient client = client();
    Instant opened = clock.instant();
    Instant retryAt = opened.plusSeconds(30);
    client.update(snapshot(BreakerState.OPEN, 1, 1, opened, retryAt, null));
    for (int i = 0; i < 50; i++) {
      var d = (BreakerClient.Decision.Defer) client.admit(DEP);
      assertThat(d.reason()).isEqualTo("circuit breaker for " + DEP + " is OPEN");
      assertThat(d.until()).isBetween(retryAt, retryAt.plusSeconds(6));
    }
  }

  @Test
  void anOlderGeneration_neverReplacesANewerView() {
    BreakerClient client = client();
    Instant opened = clock.instant();
    client.update(snapshot(BreakerState.OPEN, 5, 5, opened, opened.plusSeconds(30), null));
    Instant learned = client.learnedAt(DEP);
    clock.advance(Duration.ofSeconds(1));
    client.update(snapshot(BreakerState.CLOSED, 4, 4, null, null, null));
    assertThat(client.view(DEP).state()).isEqualTo(BreakerState.OPEN);
    assertThat(client.learnedAt(DEP)).isEqualTo(learned);
  }

  @Test
  void ownFailuresCrossingTheThreshold_stopCallsLocally_untilTheSharedStateIsKnown() {
    BreakerClient client = client();
    client.update(snapshot(BreakerState.CLOSED, 1, 1, null, null, null));
    for (int i = 0; i < BreakerConfig.DEFAULT.minimumCalls(); i++) {
      var d = (BreakerClient.Decision.Proceed) client.admit(DEP);
      client.record(DEP, Call.FAILURE, d);
    }
    Instant now = clock.instant();
    var stopped = (BreakerClient.Decision.Defer) client.admit(DEP);
    assertThat(stopped.reason()).isEqualTo("circuit breaker for " + DEP + " is opening");
    assertThat(stopped.until()).isBetween(now.plusSeconds(1), now.plusMillis(1_500));
    assertThat(client.pendingDependencies()).as("the outcomes wait for the report").isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    assertThat(client.admit(DEP))
        .as("the local stop is short; the shared state decides")
        .isInstanceOf(BreakerClient.Decision.Proceed.class);
  }

  @Test
  void aBreakerForcedClosed_ignoresTheLocalStop() {
    BreakerClient client = client();
    client.update(snapshot(BreakerState.CLOSED, 1, 1, null, null, BreakerState.CLOSED));
    for (int i = 0; i < BreakerConfig.DEFAULT.minimumCalls() + 2; i++) {
      var d = (BreakerClient.Decision.Proceed) client.admit(DEP);
      client.record(DEP, Call.FAILURE, d);
    }
    assertThat(client.admit(DEP)).isInstanceOf(BreakerClient.Decision.Proceed.class);
  }

  @Test
  void trialOutcomes_doNotFeedTheLocalWindow() {
    BreakerClient client = client();
    client.update(snapshot(BreakerState.CLOSED, 1, 1, null, null, null));
    for (int i = 0; i < BreakerConfig.DEFAULT.minimumCalls() + 2; i++) {
      client.record(DEP, Call.FAILURE, new BreakerClient.Decision.Proceed(true, 1));
    }
    assertThat(client.admit(DEP)).isInstanceOf(BreakerClient.Decision.Proceed.class);
    assertThat(client.pendingDependencies()).isEqualTo(1);
  }

  @Test
  void aFloodOfDependencies_keepsLocalStateBounded_andIdleStateIsForgotten() {
    BreakerClient client = client();
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

  @Test
  void evict_keepsBreakersThatAreNotClosed() {
    BreakerClient client = client();
    Instant opened = clock.instant();
    client.update(snapshot(BreakerState.OPEN, 1, 1, opened, opened.plusSeconds(30), null));
    client.admit(DEP);
    clock.advance(BreakerClient.IDLE.plusSeconds(1));
    client.evict(clock.instant());
    assertThat(client.view(DEP)).as("it decides whether to call at all").isNotNull();
    assertThat(client.tracked()).as("only the view keeps it").isEqualTo(1);
  }

  @Test
  void aDatabaseThatIsAway_isCountedAsFailuresOfBothLoops() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    BreakerClient client =
        new BreakerClient(
            RefusingDataSource.create(),
            d -> BreakerConfig.DEFAULT,
            t -> {},
            Clock.systemUTC(),
            Duration.ofMillis(20),
            CAP,
            new WorkerMetrics(registry, CAP));
    client.start();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(loopErrors(registry, BreakerClient.LISTENER_LOOP)).isPositive();
                assertThat(loopErrors(registry, BreakerClient.REPORTER_LOOP)).isPositive();
              });
    } finally {
      client.close();
    }
  }

  static double loopErrors(SimpleMeterRegistry registry, String loop) {
    Counter c = registry.find("ferry.loop.errors").tag("loop", loop).counter();
    return c == null ? 0 : c.count();
  }
}
