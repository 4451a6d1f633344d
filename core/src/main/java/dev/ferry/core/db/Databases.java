package dev.ferry.core.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import io.micrometer.core.instrument.MeterRegistry;

/** Connection pools for Ferry processes. */
public final class Databases {
  private Databases() {}

  /** A HikariCP pool on the configured database; the caller closes it. */
  public static HikariDataSource pool(FerryConfig config, String poolName) {
    return pool(config, poolName, null);
  }

  /**
   * A HikariCP pool on the configured database whose metrics ({@code hikaricp_*}) go to
   * {@code metrics} (none when null); the caller closes it.
   */
  public static HikariDataSource pool(FerryConfig config, String poolName, MeterRegistry metrics) {
    HikariConfig h = new HikariConfig();
    h.setJdbcUrl(config.getRequired(Setting.DB_URL));
    h.setUsername(config.get(Setting.DB_USER));
    h.setPassword(config.get(Setting.DB_PASSWORD));
    h.setMaximumPoolSize(config.getInt(Setting.DB_POOL_SIZE, 1, 1000));
    h.setMinimumIdle(1);
    h.setPoolName(poolName);
    h.setConnectionTimeout(10_000);
    // Fail at first use rather than at construction, so processes can start while the
    // database is still coming up.
    h.setInitializationFailTimeout(-1);
    h.addDataSourceProperty("reWriteBatchedInserts", "true");
    h.addDataSourceProperty("ApplicationName", poolName);
    if (metrics != null) {
      h.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(metrics));
    }
    return new HikariDataSource(h);
  }
}
