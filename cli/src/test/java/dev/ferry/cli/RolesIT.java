package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.migrations.Migrations;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Least privilege: {@code ferry roles} prints and applies the grants; an orchestrator and a worker
 * then run jobs (a breaker dependency and the redelivery check included) as their restricted roles,
 * and the worker's role cannot change or read what it has no business with.
 */
@ExtendWith(FerryExtension.class)
class RolesIT {
  private static final String PASSWORD = "roles-it-" + UUID.randomUUID();

  @Test
  void orchestratorAndWorker_runUnderTheirRestrictedRoles(FerryTestEnv env) throws Exception {
    FerryConfig owner = env.config();
    Migrations.migrate(env.dataSource());

    Harness.Run printed = Harness.cli(args("roles", owner));
    assertThat(printed.exit()).isZero();
    assertThat(printed.out())
        .contains(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.jobs",
            "TO \"ferry_orchestrator\"",
            "UPDATE (updated_at) ON ferry.jobs TO \"ferry_worker\"");
    for (String reserved : List.of("public", "pg_monitor", "current_user", "")) {
      Harness.Run refused = Harness.cli(args("roles", owner, "--worker-role", reserved));
      assertThat(refused.exit()).as(reserved).isEqualTo(2);
      assertThat(refused.err()).as(reserved).contains("ferry roles: ");
    }
    // Names that would break unquoted SQL are created as they are.
    String oddOrchestrator = "Ferry \"Orch\"; DROP";
    String oddWorker = "w$$ferry$x";
    Harness.Run odd =
        Harness.cli(
            args(
                "roles",
                owner,
                "--apply",
                "--orchestrator-role",
                oddOrchestrator,
                "--worker-role",
                oddWorker));
    assertThat(odd.exit()).as(odd.err()).isZero();
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM pg_roles WHERE rolname IN (?, ?)",
                oddOrchestrator,
                oddWorker))
        .isEqualTo(2);
    Harness.Run applied = Harness.cli(args("roles", owner, "--apply"));
    assertThat(applied.exit()).as(applied.err()).isZero();
    try (Connection c = env.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("ALTER ROLE ferry_orchestrator PASSWORD '" + PASSWORD + "'");
      st.execute("ALTER ROLE ferry_worker PASSWORD '" + PASSWORD + "'");
    }

    FerryConfig orchestrator =
        owner
            .with(Setting.DB_USER, "ferry_orchestrator")
            .with(Setting.DB_PASSWORD, PASSWORD)
            .with(Setting.ORCHESTRATOR_MIGRATE, "false");
    FerryConfig worker =
        owner.with(Setting.DB_USER, "ferry_worker").with(Setting.DB_PASSWORD, PASSWORD);
    Harness.orchestrator(env, orchestrator);
    Harness.worker(env, worker);
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(
          env,
          owner,
          null,
          "{\"id\":\""
              + id
              + "\",\"type\":\"echo\","
              + "\"dependency\":\"partner-api\",\"payload\":{\"i\":"
              + i
              + "}}");
    }
    Harness.submitRaw(env, owner, null, "{\"type\":\"echo\",\"oops\":"); // rejected
    for (UUID id : ids) {
      Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
    }
    assertThat(Harness.count(env.dataSource(), "SELECT count(*) FROM ferry.rejected_submissions"))
        .isEqualTo(1);
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.circuit_breakers WHERE dependency = 'partner-api'"))
        .isEqualTo(1);
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.workers WHERE heartbeat_at IS NOT NULL"))
        .isEqualTo(1);

    // The processes really ran as those roles.
    for (String role : List.of("ferry_orchestrator", "ferry_worker")) {
      assertThat(
              Harness.count(
                  env.dataSource(),
                  "SELECT count(*) FROM pg_stat_activity WHERE usename = ?",
                  role))
          .as(role)
          .isPositive();
    }

    // What the worker's role must not do.
    try (Connection c =
            DriverManager.getConnection(env.database().url(), "ferry_worker", PASSWORD);
        Statement st = c.createStatement()) {
      assertThat(sqlState(st, "SELECT 1/(current_user = 'ferry_worker')::int")).isEqualTo("ok");
      for (String sql :
          List.of(
              "UPDATE ferry.jobs SET status = 'FAILED'",
              "DELETE FROM ferry.jobs",
              "SELECT payload FROM ferry.jobs",
              "SELECT * FROM ferry.rejected_submissions",
              "INSERT INTO ferry.job_attempts (job_id, attempt) VALUES (gen_random_uuid(), 1)",
              "ALTER TABLE ferry.jobs ADD COLUMN x int")) {
        assertThat(sqlState(st, sql)).as(sql).isEqualTo("42501"); // insufficient_privilege
      }
    }
    // ... nor the orchestrator's: no DDL, no breaker writes.
    try (Connection c =
            DriverManager.getConnection(env.database().url(), "ferry_orchestrator", PASSWORD);
        Statement st = c.createStatement()) {
      for (String sql :
          List.of(
              "ALTER TABLE ferry.jobs ADD COLUMN x int",
              "UPDATE ferry.circuit_breakers SET state = 'OPEN'")) {
        assertThat(sqlState(st, sql)).as(sql).isEqualTo("42501");
      }
    }
  }

  /** The SQLSTATE a statement fails with, or "ok" when it runs. */
  private static String sqlState(Statement st, String sql) {
    try {
      st.execute(sql);
      return "ok";
    } catch (SQLException e) {
      return e.getSQLState();
    }
  }

  private static String[] args(String command, FerryConfig c, String... rest) {
    List<String> a =
        new ArrayList<>(
            List.of(
                command,
                Setting.DB_URL.flag() + "=" + c.get(Setting.DB_URL),
                Setting.DB_USER.flag() + "=" + c.get(Setting.DB_USER),
                Setting.DB_PASSWORD.flag() + "=" + c.get(Setting.DB_PASSWORD)));
    a.addAll(List.of(rest));
    return a.toArray(String[]::new);
  }
}
