package dev.ferry.core.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Connection pools for Ferry processes.
 *
 * <p>A pool's connections are bounded in time so that a database that silently drops a connection
 * (a failover, a firewall's idle timeout) cannot hang a loop: getting a connection waits at most
 * {@code db.connection.timeout.ms}, a statement runs at most {@code db.statement.timeout.ms}
 * (PostgreSQL's {@code statement_timeout}), and a connection that sends nothing back for {@code
 * db.socket.timeout.ms} is closed as dead (pgjdbc's {@code socketTimeout}, whole seconds; TCP
 * keep-alive is on too). The socket timeout is longer than every legitimate wait: the dispatcher's
 * LISTEN wait ({@code dispatch.poll.ms}) and the statement timeout ({@link FerryConfig#validate()}
 * checks it). Migrations get a pool without these limits ({@link #migrationPool}): a long index
 * build or Flyway's lock wait is legitimate.
 */
public final class Databases {
  private Databases() {}

  /** A HikariCP pool on the configured database; the caller closes it. */
  public static HikariDataSource pool(FerryConfig config, String poolName) {
    return pool(config, poolName, null);
  }

  /**
   * A HikariCP pool on the configured database whose metrics ({@code hikaricp_*}) go to {@code
   * metrics} (none when null); the caller closes it.
   */
  public static HikariDataSource pool(FerryConfig config, String poolName, MeterRegistry metrics) {
    return new HikariDataSource(poolConfig(config, poolName, metrics));
  }

  /**
   * A small pool for running migrations: no statement timeout and no socket timeout (a migration
   * may build an index for minutes, and Flyway waits for another process's migration lock). The
   * caller closes it once the migrations ran.
   */
  public static HikariDataSource migrationPool(FerryConfig config, String poolName) {
    FerryConfig unbounded =
        config
            .with(Setting.DB_POOL_SIZE, "2")
            .with(Setting.DB_STATEMENT_TIMEOUT_MS, "0")
            .with(Setting.DB_SOCKET_TIMEOUT_MS, "0");
    HikariConfig h = poolConfig(unbounded, poolName, null);
    h.setMinimumIdle(0);
    return new HikariDataSource(h);
  }

  /** The pool's settings (not yet connected): for {@link #pool} and tests. */
  static HikariConfig poolConfig(FerryConfig config, String poolName, MeterRegistry metrics) {
    HikariConfig h = new HikariConfig();
    h.setJdbcUrl(config.getRequired(Setting.DB_URL));
    h.setUsername(config.get(Setting.DB_USER));
    h.setPassword(config.get(Setting.DB_PASSWORD));
    h.setMaximumPoolSize(config.getInt(Setting.DB_POOL_SIZE));
    h.setMinimumIdle(1);
    h.setPoolName(poolName);
    h.setConnectionTimeout(config.getLong(Setting.DB_CONNECTION_TIMEOUT_MS));
    // Fail at first use rather than at construction, so processes can start while the
    // database is still coming up.
    h.setInitializationFailTimeout(-1);
    h.addDataSourceProperty("reWriteBatchedInserts", "true");
    h.addDataSourceProperty("ApplicationName", poolName);
    h.addDataSourceProperty("tcpKeepAlive", "true");
    long socketMs = config.getLong(Setting.DB_SOCKET_TIMEOUT_MS);
    // pgjdbc counts whole seconds (0 = none): round up, never below what was asked.
    h.addDataSourceProperty("socketTimeout", String.valueOf((socketMs + 999) / 1000));
    long statementMs = config.getLong(Setting.DB_STATEMENT_TIMEOUT_MS);
    // Set on every new connection (0 = none, whatever the server's default); a SET, not the
    // startup "options" parameter, so that options in the user's JDBC URL still apply.
    h.setConnectionInitSql("SET statement_timeout = " + statementMs);
    if (metrics != null) {
      h.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(metrics));
    }
    return h;
  }
}
