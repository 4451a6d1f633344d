package dev.ferry.worker.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
  void concurrentRequests_neverGetMoreThanTheLimitPerWindow_andSayWhenTheNextFrees(FerryTestEnv env)
      throws Exception {
    limit(
        env,
        "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms)"
            + " VALUES ('api', 50, 60000)");
    RateGrants grants = new RateGrants(env.dataSource());
    CountDownLatch go = new CountDownLatch(1);
    List<Future<RateGrants.Grant>> fs = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (int i = 0; i < 8; i++) {
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  return grants.grant("api", 10);
                }));
      }
      go.countDown();
      int total = 0;
      for (Future<RateGrants.Grant> f : fs) {
        RateGrants.Grant g = f.get();
        assertThat(g.limited()).isTrue();
        total += g.granted();
        if (g.granted() < 10) {
          assertThat(g.nextFree()).isAfter(Instant.now().plusSeconds(55));
        }
      }
      assertThat(total).isEqualTo(50);
    }
    assertThat(grants.grant("api", 5).granted()).isZero();
    assertThat(grants.rated()).containsOnlyKeys("api");
    // A dependency without a rate limit: everything, nothing logged.
    RateGrants.Grant free = grants.grant("other", 7);
    assertThat(free.limited()).isFalse();
    assertThat(free.granted()).isEqualTo(7);
    // A live change applies to the next grant.
    limit(env, "UPDATE ferry.dependency_limits SET rate_limit = 60 WHERE dependency = 'api'");
    assertThat(grants.grant("api", 20).granted()).isEqualTo(10);
  }
}
