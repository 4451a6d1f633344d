package dev.ferry.worker.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The rate limiter's grants on a real PostgreSQL, asked by many workers at once. */
@ExtendWith(FerryExtension.class)
class RateGrantsIT {

  private static void limit(FerryTestEnv env, String sql) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  @Test
  void concurrentRequests_neverGetMoreThanTheLimitPerWindow_spreadOverThePeriod(FerryTestEnv env)
      throws Exception {
    limit(
        env,
        "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms)"
            + " VALUES ('api', 20, 1000)");
    RateGrants grants = new RateGrants(env.dataSource());
    // Slots a spacing apart (1030 ms / 20), granted up to two spacings ahead.
    RateGrants.Grant first = grants.grant("api", 10);
    assertThat(first.limited()).isTrue();
    assertThat(first.granted()).isBetween(2, 3);
    assertThat(first.nextFree()).isNotNull();
    for (int i = 1; i < first.granted(); i++) {
      assertThat(java.time.Duration.between(first.slots()[i - 1], first.slots()[i]))
          .isGreaterThanOrEqualTo(java.time.Duration.ofMillis(51));
    }

    // Four workers asking in a loop for 2.5 s: no 1 s window holds more than 20 slots.
    ConcurrentLinkedQueue<Instant> slots = new ConcurrentLinkedQueue<>();
    long end = System.nanoTime() + 2_500_000_000L;
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> fs = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      for (int i = 0; i < 4; i++) {
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  while (System.nanoTime() < end) {
                    slots.addAll(List.of(grants.grant("api", 3).slots()));
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : fs) {
        f.get();
      }
    }
    List<Instant> times = slots.stream().sorted().toList();
    for (int i = 0; i < times.size(); i++) {
      int n = 0;
      for (int k = i; k < times.size() && times.get(k).isBefore(times.get(i).plusSeconds(1)); k++) {
        n++;
      }
      assertThat(n).as("slots in the 1 s window from slot %d", i).isLessThanOrEqualTo(20);
    }
    // The limit's pace: 20 per 1.03 s over 2.5 s, plus what was granted ahead.
    assertThat(times.size()).isBetween(45, 56);

    // A permit's call moves its log entry: later grants count from the real call.
    limit(
        env,
        "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms)"
            + " VALUES ('one', 1, 60000)");
    RateGrants.Grant single = grants.grant("one", 3);
    assertThat(single.permits()).hasSize(1);
    Instant calledAt =
        Instant.now().plusSeconds(5).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    grants.called(List.of(new RateGrants.Call(single.permits()[0], calledAt)));
    RateGrants.Grant none = grants.grant("one", 1);
    assertThat(none.granted()).isZero();
    // The next slot is a window (60 s + margin) after the call, not after the grant; it is
    // granted a second ahead.
    assertThat(none.nextFree()).isAfter(calledAt.plusSeconds(60));

    assertThat(grants.rated()).containsOnlyKeys("api", "one");
    // A dependency without a rate limit: everything, nothing logged.
    RateGrants.Grant free = grants.grant("other", 7);
    assertThat(free.limited()).isFalse();
    assertThat(free.granted()).isEqualTo(7);
    // A live change applies to the next grant.
    limit(env, "DELETE FROM ferry.dependency_limits WHERE dependency = 'api'");
    assertThat(grants.grant("api", 9).limited()).isFalse();
  }
}
