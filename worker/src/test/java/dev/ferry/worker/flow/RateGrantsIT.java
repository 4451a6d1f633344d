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
    // At once: one slice's worth (a tenth of the limit), and when the next frees.
    RateGrants.Grant first = grants.grant("api", 10);
    assertThat(first.limited()).isTrue();
    assertThat(first.granted()).isEqualTo(2);
    assertThat(first.nextFree()).isAfter(Instant.now()).isBefore(Instant.now().plusMillis(150));

    // Four workers asking in a loop for 2.5 s: no 1 s window gets more than 20 grants.
    ConcurrentLinkedQueue<Long> granted = new ConcurrentLinkedQueue<>();
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
                    RateGrants.Grant g = grants.grant("api", 3);
                    long at = System.nanoTime();
                    for (int k = 0; k < g.granted(); k++) {
                      granted.add(at);
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : fs) {
        f.get();
      }
    }
    List<Long> times = granted.stream().sorted().toList();
    for (int i = 0; i < times.size(); i++) {
      int n = 0;
      for (int k = i; k < times.size() && times.get(k) < times.get(i) + 1_000_000_000L; k++) {
        n++;
      }
      assertThat(n).as("grants in the 1 s window from grant %d", i).isLessThanOrEqualTo(20);
    }
    // Close to the limit: about 20 per 1.03 s.
    assertThat(times.size()).isGreaterThanOrEqualTo(40);

    assertThat(grants.rated()).containsOnlyKeys("api");
    // A dependency without a rate limit: everything, nothing logged.
    RateGrants.Grant free = grants.grant("other", 7);
    assertThat(free.limited()).isFalse();
    assertThat(free.granted()).isEqualTo(7);
    // A live change applies to the next grant.
    limit(env, "DELETE FROM ferry.dependency_limits WHERE dependency = 'api'");
    assertThat(grants.grant("api", 9).limited()).isFalse();
  }
}
