package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The main pool's statement and socket timeouts hold against a real PostgreSQL: a statement over
 * the statement timeout is cancelled, a connection silent for longer than the socket timeout is
 * given up, and the migration pool has neither limit.
 */
@ExtendWith(FerryExtension.class)
class DatabasePoolIT {
  private static String show(HikariDataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW statement_timeout")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void sleep(HikariDataSource ds, double seconds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute("SELECT pg_sleep(" + seconds + ")");
    }
  }

  @Test
  void statementTimeout_isSetOnEveryConnection_andCancelsLongStatements(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    try (HikariDataSource ds = Databases.pool(config, "it-default")) {
      assertThat(show(ds)).isEqualTo("30s");
    }
    try (HikariDataSource ds =
        Databases.pool(config.with(Setting.DB_STATEMENT_TIMEOUT_MS, "300"), "it-short")) {
      assertThat(show(ds)).isEqualTo("300ms");
      long start = System.nanoTime();
      assertThatThrownBy(() -> sleep(ds, 10))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    }
    try (HikariDataSource ds = Databases.migrationPool(config, "it-migrate")) {
      assertThat(show(ds)).isEqualTo("0");
    }
  }

  @Test
  void socketTimeout_givesUpOnASilentConnection(FerryTestEnv env) throws Exception {
    FerryConfig config =
        env.config()
            .with(Setting.DB_STATEMENT_TIMEOUT_MS, "0")
            .with(Setting.DB_SOCKET_TIMEOUT_MS, "1000");
    try (HikariDataSource ds = Databases.pool(config, "it-socket")) {
      // The server says nothing for 10 s, like a connection dropped without a FIN.
      long start = System.nanoTime();
      assertThatThrownBy(() -> sleep(ds, 10))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("SocketTimeoutException");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    }
  }
}
