package dev.ferry.orchestrator.flow;

import dev.ferry.core.flow.Rate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ferry.dependency_limits}: the live fleet-wide limits of each dependency ({@code ferry
 * limits}, the console's Limits page). A change wakes the dispatchers ({@code NOTIFY ferry_jobs}).
 */
public final class LimitsStore {
  /** A dependency's limits; a null part is no such limit. */
  public record Limits(String dependency, Rate rate, Integer maxConcurrent, Instant updatedAt) {}

  private static final String SET =
      """
      INSERT INTO ferry.dependency_limits AS l (dependency, rate_limit, rate_period_ms,
                                                max_concurrent)
      VALUES (?, ?, ?, ?)
      ON CONFLICT (dependency) DO UPDATE
      SET rate_limit = CASE WHEN ? THEN excluded.rate_limit ELSE l.rate_limit END,
          rate_period_ms = CASE WHEN ? THEN excluded.rate_period_ms ELSE l.rate_period_ms END,
          max_concurrent = CASE WHEN ? THEN excluded.max_concurrent ELSE l.max_concurrent END,
          updated_at = now()
      """;

  /**
   * Sets a dependency's limits. A part whose {@code set*} flag is false is left as it is; one whose
   * flag is true takes the value given, null clearing it.
   */
  public void set(
      Connection c,
      String dependency,
      Rate rate,
      boolean setRate,
      Integer maxConcurrent,
      boolean setMaxConcurrent)
      throws SQLException {
    if (maxConcurrent != null && maxConcurrent < 1) {
      throw new IllegalArgumentException(
          "max concurrent must be at least 1 but was " + maxConcurrent);
    }
    try (PreparedStatement ps = c.prepareStatement(SET)) {
      ps.setString(1, dependency);
      ps.setObject(2, rate == null ? null : rate.limit(), Types.INTEGER);
      ps.setObject(3, rate == null ? null : (int) rate.period().toMillis(), Types.INTEGER);
      ps.setObject(4, maxConcurrent, Types.INTEGER);
      ps.setBoolean(5, setRate);
      ps.setBoolean(6, setRate);
      ps.setBoolean(7, setMaxConcurrent);
      ps.executeUpdate();
    }
    // A dependency left with no limit at all has no row.
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM ferry.dependency_limits WHERE dependency = ?"
                + " AND rate_limit IS NULL AND max_concurrent IS NULL")) {
      ps.setString(1, dependency);
      ps.executeUpdate();
    }
    notifyDispatchers(c);
  }

  /**
   * Writes configured default limits for dependencies that have no row yet (an existing row, set
   * live or by an earlier start, wins). Returns how many rows were created.
   */
  public int seed(Connection c, List<dev.ferry.core.config.FerryConfig.LimitDefaults> defaults)
      throws SQLException {
    int n = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms,"
                + " max_concurrent) VALUES (?, ?, ?, ?) ON CONFLICT (dependency) DO NOTHING")) {
      for (var d : defaults) {
        ps.setString(1, d.dependency());
        ps.setObject(2, d.rate() == null ? null : d.rate().limit(), Types.INTEGER);
        ps.setObject(
            3, d.rate() == null ? null : (int) d.rate().period().toMillis(), Types.INTEGER);
        ps.setObject(4, d.maxConcurrent(), Types.INTEGER);
        n += ps.executeUpdate();
      }
    }
    if (n > 0) {
      notifyDispatchers(c);
    }
    return n;
  }

  /** Removes every limit of a dependency; returns whether it had any. */
  public boolean clear(Connection c, String dependency) throws SQLException {
    boolean found;
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM ferry.dependency_limits WHERE dependency = ?")) {
      ps.setString(1, dependency);
      found = ps.executeUpdate() == 1;
    }
    notifyDispatchers(c);
    return found;
  }

  public List<Limits> list(Connection c) throws SQLException {
    List<Limits> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT dependency, rate_limit, rate_period_ms, max_concurrent, updated_at"
                    + " FROM ferry.dependency_limits ORDER BY dependency");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        int rateLimit = rs.getInt("rate_limit");
        Rate rate =
            rs.wasNull()
                ? null
                : new Rate(rateLimit, Duration.ofMillis(rs.getInt("rate_period_ms")));
        int max = rs.getInt("max_concurrent");
        Integer maxConcurrent = rs.wasNull() ? null : max;
        Timestamp t = rs.getTimestamp("updated_at");
        out.add(new Limits(rs.getString("dependency"), rate, maxConcurrent, t.toInstant()));
      }
    }
    return out;
  }

  private static void notifyDispatchers(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('ferry_jobs', '')")) {
      ps.execute();
    }
  }
}
