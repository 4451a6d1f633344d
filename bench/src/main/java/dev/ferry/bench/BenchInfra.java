package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.testkit.FerryInfra;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.LocalCluster;
import dev.ferry.worker.api.JobHandler;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Infrastructure for a benchmark: embedded Kafka and PostgreSQL (or external servers named by the
 * environment, see {@link FerryInfra}), with the database durability chosen for the run.
 */
public final class BenchInfra {
  /** Embedded PostgreSQL with {@code fsync=off, synchronous_commit=off} (the peers' setup). */
  public static final String TEST = "test";

  /** Embedded PostgreSQL with {@code fsync=on, synchronous_commit=on}, as in production. */
  public static final String PRODUCTION = "production";

  private static volatile String durability = TEST;
  private static volatile Map<String, String> kafka = Map.of();

  private BenchInfra() {}

  /** Chooses the durability of the embedded database for the benchmarks that follow. */
  public static void durability(String value) {
    if (!value.equals(TEST) && !value.equals(PRODUCTION)) {
      throw new IllegalArgumentException(
          "--durability must be test or production, not '" + value + "'");
    }
    durability = value;
  }

  /** Kafka client properties for Ferry's clients in the benchmarks that follow (tuning). */
  public static void kafkaProperties(Map<String, String> properties) {
    kafka = Map.copyOf(properties);
  }

  /**
   * A whole local Ferry for one benchmark, on {@link #start()}'s infrastructure and with the chosen
   * Kafka client properties; the caller closes it.
   */
  public static LocalCluster cluster(
      int workers, UnaryOperator<FerryConfig> tune, List<JobHandler> handlers) {
    String dbName = "ferry_bench_" + Long.toHexString(System.nanoTime());
    return LocalCluster.start(
        start(),
        dbName,
        workers,
        c -> {
          FerryConfig tuned = c;
          for (Map.Entry<String, String> e : kafka.entrySet()) {
            tuned = tuned.withKafka(e.getKey(), e.getValue());
          }
          return tune.apply(tuned);
        },
        handlers);
  }

  /** Starts infrastructure for one benchmark; the caller closes it. */
  public static Infra start() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("FERRY_TEST_DB_DURABILITY", durability);
    return FerryInfra.start(env);
  }

  /** The database's durability settings as they are, for the RESULT line. */
  public static String describe(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT current_setting('fsync'), current_setting('synchronous_commit')")) {
      rs.next();
      return "fsync=" + rs.getString(1) + ",synchronous_commit=" + rs.getString(2);
    }
  }
}
