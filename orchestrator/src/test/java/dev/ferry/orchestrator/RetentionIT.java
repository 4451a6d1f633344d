package dev.ferry.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.Outcome;
import dev.ferry.orchestrator.retention.Pruner;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Retention on real trees of jobs run through Kafka and Postgres: a pruner with a fake clock
 * deletes exactly what is finished and old enough, leaves first (a parent never before its
 * children, a child never while its parent runs), one orchestrator at a time; and the
 * orchestrator's own retention thread deletes finished jobs once they are old enough.
 */
@ExtendWith(FerryExtension.class)
class RetentionIT {
  private static final Duration WEEK = Duration.ofDays(7);

  @Test
  void pruner_deletesFinishedTreesLeavesFirst_andKeepsEverythingStillRunning(FerryTestEnv env)
      throws Exception {
    FerryConfig config = startWithSucceedingWorker(env);
    UUID done = UUID.randomUUID();
    UUID waiting = UUID.randomUUID();
    UUID doneTree = UUID.randomUUID();
    UUID openTree = UUID.randomUUID();
    UUID openTreeFinishedChild = UUID.randomUUID();
    UUID openTreeWaitingChild = UUID.randomUUID();
    String later = Instant.now().plus(Duration.ofDays(30)).toString();
    submit(env, config, "{\"id\":\"" + done + "\",\"type\":\"noop\"}");
    submit(
        env, config, "{\"id\":\"" + waiting + "\",\"type\":\"noop\",\"runAt\":\"" + later + "\"}");
    // A finished tree three levels deep, and a tree still waiting for one child.
    submit(
        env,
        config,
        "{\"id\":\""
            + doneTree
            + "\",\"children\":["
            + "{\"type\":\"noop\"},{\"children\":[{\"type\":\"noop\"},{\"type\":\"noop\"}]},"
            + "{\"type\":\"noop\"}]}");
    submit(
        env,
        config,
        "{\"id\":\""
            + openTree
            + "\",\"children\":["
            + "{\"id\":\""
            + openTreeFinishedChild
            + "\",\"type\":\"noop\"},"
            + "{\"id\":\""
            + openTreeWaitingChild
            + "\",\"type\":\"noop\",\"runAt\":\""
            + later
            + "\"}]}");
    submit(env, config, "this is not json");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                "SUCCEEDED".equals(status(env, done))
                    && "SUCCEEDED".equals(status(env, doneTree))
                    && "SUCCEEDED".equals(status(env, openTreeFinishedChild))
                    && count(env, "SELECT count(*) FROM ferry.rejected_submissions") == 1);
    long jobsBefore = count(env, "SELECT count(*) FROM ferry.jobs");
    assertThat(jobsBefore).isEqualTo(2 + 6 + 3);
    assertThat(count(env, "SELECT count(*) FROM ferry.job_attempts")).isEqualTo(1 + 4 + 1);

    // Six days later nothing is old enough.
    Pruner early = pruner(env, Instant.now().plus(Duration.ofDays(6)), 2);
    assertThat(early.pruneOnce().total()).isZero();
    assertThat(count(env, "SELECT count(*) FROM ferry.jobs")).isEqualTo(jobsBefore);

    // Eight days later, in batches of two: never an orphan child on the way.
    Pruner late = pruner(env, Instant.now().plus(Duration.ofDays(8)), 2);
    int batches = 0;
    while (late.pruneOnce().total() > 0) {
      batches++;
      assertThat(
              count(
                  env,
                  "SELECT count(*) FROM ferry.jobs c WHERE c.parent_id IS NOT NULL"
                      + " AND NOT EXISTS (SELECT 1 FROM ferry.jobs p WHERE p.id = c.parent_id)"))
          .as("children left without their parent after batch %d", batches)
          .isZero();
    }
    assertThat(batches).isGreaterThanOrEqualTo(4); // 7 jobs in batches of 2, leaves first

    // Left: the waiting job and the whole unfinished tree (its finished child too).
    assertThat(ids(env))
        .containsExactlyInAnyOrder(
            waiting.toString(),
            openTree.toString(),
            openTreeFinishedChild.toString(),
            openTreeWaitingChild.toString());
    assertThat(count(env, "SELECT count(*) FROM ferry.job_attempts")).isEqualTo(1);
    assertThat(
            count(
                env,
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ?",
                openTreeFinishedChild))
        .isEqualTo(1);
    assertThat(count(env, "SELECT count(*) FROM ferry.rejected_submissions")).isZero();
  }

  @Test
  void aJobTheDatabaseRefusesToDelete_isKept_andTheRestIsPruned(FerryTestEnv env) throws Exception {
    FerryConfig config = startWithSucceedingWorker(env);
    List<UUID> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      submit(env, config, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> count(env, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'") == 5);
    // A user's own table points at one job: PostgreSQL refuses to delete that one (23503).
    try (Connection c = env.dataSource().getConnection();
        java.sql.Statement st = c.createStatement()) {
      st.execute("CREATE TABLE ferry.test_audit (job_id uuid REFERENCES ferry.jobs (id))");
      st.execute("INSERT INTO ferry.test_audit VALUES ('" + ids.get(2) + "')");
    }
    Pruner pruner = pruner(env, Instant.now().plus(Duration.ofDays(8)), 100);
    Pruner.Batch first = pruner.pruneOnce();
    assertThat(first.jobs()).isEqualTo(4);
    assertThat(ids(env)).containsExactly(ids.get(2).toString());
    // The kept job is not picked again: the next batch finds nothing to do.
    assertThat(pruner.pruneOnce().jobs()).isZero();
  }

  @Test
  void onlyOneOrchestratorPrunesAtATime(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.RETENTION_MS, "0");
    env.closeAfter(Orchestrator.start(config));
    submit(env, config, "not json either");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> count(env, "SELECT count(*) FROM ferry.rejected_submissions") == 1);
    Pruner pruner = pruner(env, Instant.now().plus(Duration.ofDays(8)), 100);
    try (Connection other = env.dataSource().getConnection()) {
      // Another orchestrator is pruning: this one skips its round.
      try (PreparedStatement ps = other.prepareStatement("SELECT pg_advisory_lock(?)")) {
        ps.setLong(1, Pruner.RETENTION_LOCK);
        ps.execute();
      }
      Pruner.Batch skipped = pruner.pruneOnce();
      assertThat(skipped.locked()).isTrue();
      assertThat(count(env, "SELECT count(*) FROM ferry.rejected_submissions")).isEqualTo(1);
      try (PreparedStatement ps = other.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        ps.setLong(1, Pruner.RETENTION_LOCK);
        ps.execute();
      }
    }
    Pruner.Batch b = pruner.pruneOnce();
    assertThat(b.locked()).isFalse();
    assertThat(b.rejected()).isEqualTo(1);
  }

  @Test
  void orchestratorsRetentionThread_deletesJobsOnceTheyAreOldEnough(FerryTestEnv env)
      throws Exception {
    FerryConfig config =
        env.config().with(Setting.RETENTION_MS, "1500").with(Setting.RETENTION_POLL_MS, "100");
    env.closeAfter(Orchestrator.start(config));
    env.closeAfter(new OrchestratorIT.ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    UUID id = UUID.randomUUID();
    submit(env, config, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    await().atMost(Duration.ofSeconds(60)).until(() -> "SUCCEEDED".equals(status(env, id)));
    // When the job finished by the database's clock, not when the test saw it: on a loaded
    // machine the test may look late, which must not make the deletion look early.
    Instant finished =
        Instant.ofEpochMilli(
            count(
                env,
                "SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM ferry.jobs WHERE id = ?",
                id));
    await().atMost(Duration.ofSeconds(60)).until(() -> status(env, id) == null);
    assertThat(Duration.between(finished, Instant.now())).isGreaterThan(Duration.ofMillis(1000));
    assertThat(count(env, "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ?", id)).isZero();
  }

  /** An orchestrator without retention of its own, and a worker whose jobs all succeed. */
  private static FerryConfig startWithSucceedingWorker(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.RETENTION_MS, "0");
    env.closeAfter(Orchestrator.start(config));
    env.closeAfter(
        new OrchestratorIT.ScriptedWorker(
            config, w -> new Outcome.Succeeded(FerryJson.parse("{\"ok\":true}"))));
    return config;
  }

  private static Pruner pruner(FerryTestEnv env, Instant now, int batch) {
    return new Pruner(
        env.dataSource(),
        WEEK,
        batch,
        Duration.ofMinutes(1),
        Clock.fixed(now, ZoneOffset.UTC),
        new SimpleMeterRegistry());
  }

  private static void submit(FerryTestEnv env, FerryConfig config, String json) throws Exception {
    OrchestratorIT.submit(env, config, json);
  }

  private static String status(FerryTestEnv env, UUID id) throws Exception {
    return OrchestratorIT.text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id);
  }

  private static java.util.List<String> ids(FerryTestEnv env) throws Exception {
    java.util.List<String> out = new java.util.ArrayList<>();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT id::text FROM ferry.jobs");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  private static long count(FerryTestEnv env, String sql, Object... args) throws Exception {
    return OrchestratorIT.count(env, sql, args);
  }
}
