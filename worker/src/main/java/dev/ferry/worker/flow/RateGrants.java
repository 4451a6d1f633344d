package dev.ferry.worker.flow;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The fleet-wide rate limiter's database side: grants start permits for a dependency from the log
 * {@code ferry.dependency_starts}, under the dependency's advisory lock, so all workers together
 * never exceed its {@code rate_limit} (read live from {@code ferry.dependency_limits} on every
 * grant).
 *
 * <p><b>The rule.</b> A permit is granted at time {@code t} only while fewer than {@code limit}
 * permits were granted in {@code (t − window, t]}, where {@code window = period + margin}. A permit
 * is used within {@code margin} of its grant (the worker drops older ones), so the calls it admits
 * reach the downstream at most {@code margin} after their grants: any two calls {@code limit}
 * grants apart are then at least {@code period} apart, and no window of {@code period} sees more
 * than {@code limit} of them. The price: with a backlog, about {@code limit / (period + margin)}
 * starts per period, 97 % of the limit for periods of a second or more. Grants are also spread over
 * the period ({@link #SLICES}).
 *
 * <p>Thread-safe; every call is its own transaction.
 */
public final class RateGrants {
  /** The margin is this share of the period: 3 %. */
  public static final double MARGIN_SHARE = 0.03;

  /** ... and at least this long: 30 ms. */
  public static final long MIN_MARGIN_MS = 30;

  /**
   * Grants are also spread over the period: at most {@code ceil(limit / SLICES)} in any tenth of
   * it, so calls do not all reach the downstream at once (a burst queues at the downstream and
   * delays its own calls beyond the margin).
   */
  public static final int SLICES = 10;

  /** The margin added to a period (see the class comment). */
  public static Duration margin(Duration period) {
    return Duration.ofMillis(Math.max(MIN_MARGIN_MS, Math.round(period.toMillis() * MARGIN_SHARE)));
  }

  /**
   * What a grant gave: {@code granted} of the permits asked for; when fewer, {@code nextFree} is
   * when the next one frees; {@code limited} false when the dependency has no rate limit (all
   * granted, nothing logged).
   */
  public record Grant(int granted, Instant nextFree, boolean limited) {}

  private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('ferry-rate:' || ?))";

  private static final String GRANT =
      """
      WITH lim AS (
             SELECT rate_limit AS n,
                    (rate_period_ms + greatest(round(rate_period_ms * ?::float8), ?))
                      * interval '1 millisecond' AS w,
                    ceil(rate_limit / ?::float8)::int AS sub_n,
                    rate_period_ms / ?::float8 * interval '1 millisecond' AS sub_w
             FROM ferry.dependency_limits WHERE dependency = ? AND rate_limit IS NOT NULL),
           t AS (SELECT clock_timestamp() AS now),
           recent AS (
             SELECT count(*) AS used, min(s.at) AS oldest,
                    count(*) FILTER (WHERE s.at > t.now - lim.sub_w) AS sub_used,
                    min(s.at) FILTER (WHERE s.at > t.now - lim.sub_w) AS sub_oldest
             FROM ferry.dependency_starts s, lim, t
             WHERE s.dependency = ? AND s.at > t.now - lim.w),
           g AS (
             SELECT CASE WHEN lim.n IS NULL THEN ?
                         ELSE least(?, greatest(0, lim.n - recent.used),
                                    greatest(0, lim.sub_n - recent.sub_used)) END AS k
             FROM recent LEFT JOIN lim ON true),
           ins AS (
             INSERT INTO ferry.dependency_starts (dependency, at)
             SELECT ?, t.now FROM t, g, lim, generate_series(1, g.k)
             RETURNING 1),
           old AS (
             DELETE FROM ferry.dependency_starts s USING lim, t
             WHERE s.dependency = ? AND s.at <= t.now - lim.w
             RETURNING 1)
      SELECT g.k AS granted, lim.n IS NOT NULL AS limited,
             CASE WHEN recent.used + g.k >= lim.n THEN coalesce(recent.oldest, t.now) + lim.w
                  ELSE coalesce(recent.sub_oldest, t.now) + lim.sub_w END AS next_free,
             (SELECT count(*) FROM ins) AS logged, (SELECT count(*) FROM old) AS pruned
      FROM g, recent, t LEFT JOIN lim ON true
      """;

  private static final String RATED =
      "SELECT dependency FROM ferry.dependency_limits WHERE rate_limit IS NOT NULL";

  private final DataSource dataSource;

  public RateGrants(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Grants up to {@code wanted} start permits for {@code dependency} now. */
  public Grant grant(String dependency, int wanted) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(LOCK)) {
          ps.setString(1, dependency);
          ps.executeQuery().close();
        }
        Grant g;
        try (PreparedStatement ps = c.prepareStatement(GRANT)) {
          int i = 1;
          ps.setDouble(i++, MARGIN_SHARE);
          ps.setLong(i++, MIN_MARGIN_MS);
          ps.setDouble(i++, SLICES);
          ps.setDouble(i++, SLICES);
          ps.setString(i++, dependency);
          ps.setString(i++, dependency);
          ps.setInt(i++, wanted);
          ps.setInt(i++, wanted);
          ps.setString(i++, dependency);
          ps.setString(i, dependency);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            Timestamp next = rs.getTimestamp("next_free");
            g =
                new Grant(
                    rs.getInt("granted"),
                    next == null ? null : next.toInstant(),
                    rs.getBoolean("limited"));
          }
        }
        c.commit();
        return g;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** The dependencies that have a rate limit now. */
  public Map<String, Boolean> rated() throws SQLException {
    Map<String, Boolean> out = new HashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(RATED);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(rs.getString(1), Boolean.TRUE);
      }
    }
    return out;
  }
}
