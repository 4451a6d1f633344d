package dev.ferry.orchestrator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.migrations.Migrations;
import dev.ferry.orchestrator.store.ClaimedJob;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The dispatcher's claims under flow control, on a real PostgreSQL. */
@ExtendWith(FerryExtension.class)
class FlowClaimsIT {

  private static void exec(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static UUID job(Connection c, String key, Integer limit, String dependency, int seq)
      throws Exception {
    UUID id = UUID.randomUUID();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ferry.jobs (id, type, dependency, payload, status, max_attempts,"
                + " next_run_at, timeout_ms, backoff, concurrency_key, concurrency_limit,"
                + " concurrency_seq) VALUES (?, 'noop', ?, '{}', 'PENDING', 3, now(), 1000,"
                + " '{\"strategy\":\"fixed\",\"initialMs\":1}', ?, ?, ?)")) {
      ps.setObject(1, id);
      ps.setString(2, dependency);
      ps.setString(3, key);
      ps.setObject(4, limit);
      ps.setObject(5, key == null ? null : (long) seq);
      ps.executeUpdate();
    }
    return id;
  }

  private static List<UUID> claim(Connection c, FlowClaims claims, int budget) throws Exception {
    c.setAutoCommit(false);
    List<UUID> ids = new ArrayList<>();
    for (ClaimedJob j : claims.claim(c, budget)) {
      ids.add(j.id());
    }
    c.commit();
    c.setAutoCommit(true);
    return ids;
  }

  @Test
  void keys_takeTheirOldestJobsUpToTheirLimit_fairly_andDependencyCapsHold(FerryTestEnv env)
      throws Exception {
    Migrations.migrate(env.dataSource());
    try (Connection c = env.dataSource().getConnection()) {
      List<UUID> big = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        big.add(job(c, "big", 1, null, i));
      }
      List<UUID> three = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        three.add(job(c, "three", 3, null, i));
      }
      FlowClaims claims = new FlowClaims();
      assertThat(claim(c, claims, 100))
          .containsExactlyInAnyOrder(big.get(0), three.get(0), three.get(1), three.get(2));
      // Full: nothing more until a slot frees; RETRY_WAIT keeps its slot.
      assertThat(claim(c, claims, 100)).isEmpty();
      exec(c, "UPDATE ferry.jobs SET status = 'SUCCEEDED' WHERE id = '" + big.get(0) + "'");
      exec(c, "UPDATE ferry.jobs SET status = 'RETRY_WAIT' WHERE id = '" + three.get(0) + "'");
      assertThat(claim(c, claims, 100)).containsExactly(big.get(1));

      // A dependency capped at 2: only 2 of its jobs at once, keyed or not.
      exec(c, "INSERT INTO ferry.dependency_limits (dependency, max_concurrent) VALUES ('api', 2)");
      UUID a = job(c, null, null, "api", 0);
      UUID b = job(c, null, null, "api", 0);
      UUID k = job(c, "k", 5, "api", 0);
      assertThat(claim(c, claims, 100)).hasSize(2).isSubsetOf(a, b, k);
      assertThat(claim(c, claims, 100)).isEmpty();
    }
  }

  @Test
  void aKeyWith100000WaitingJobs_doesNotDelayAKeyWith10(FerryTestEnv env) throws Exception {
    Migrations.migrate(env.dataSource());
    try (Connection c = env.dataSource().getConnection()) {
      exec(
          c,
          "INSERT INTO ferry.jobs (id, type, payload, status, max_attempts, next_run_at,"
              + " timeout_ms, backoff, concurrency_key, concurrency_limit, concurrency_seq)"
              + " SELECT gen_random_uuid(), 'noop', '{}', 'PENDING', 3, now(), 1000,"
              + " '{\"strategy\":\"fixed\",\"initialMs\":1}', 'aaa-big', 1, g"
              + " FROM generate_series(1, 100000) g");
      exec(c, "ANALYZE ferry.jobs");
      List<UUID> small = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        small.add(job(c, "zzz-small", 1, null, i));
      }
      FlowClaims claims = new FlowClaims();
      long t0 = System.nanoTime();
      List<UUID> first = claim(c, claims, 1000);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      // One job of each key: the small key's first job goes in the same round as the big one's.
      assertThat(first).hasSize(2).contains(small.get(0));
      // Each later round, once its slot frees, the small key's next job goes at once too.
      for (int i = 1; i < 10; i++) {
        exec(c, "UPDATE ferry.jobs SET status = 'SUCCEEDED' WHERE status = 'QUEUED'");
        assertThat(claim(c, claims, 1000)).hasSize(2).contains(small.get(i));
      }
      System.out.printf("FlowClaimsIT: first round over 100,010 waiting keyed jobs: %d ms%n", ms);
    }
  }
}
