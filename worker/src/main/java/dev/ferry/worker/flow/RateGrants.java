package dev.ferry.worker.flow;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The fleet-wide rate limiter's database side: grants start permits for a dependency, under the
 * dependency's advisory lock, so that all workers together never exceed its {@code rate_limit} in
 * any window of {@code rate_period_ms} (both read live from {@code ferry.dependency_limits} on
 * every grant).
 *
 * <p><b>The rule.</b> Every permit has a time, its <i>slot</i>, logged in {@code
 * ferry.dependency_starts}: the worker starts its job at the slot, not before. Slots are spaced
 * evenly, {@code spacing = window / limit} apart, and any slot is at least {@code window} after the
 * slot {@code limit} places before it, where {@code window = period + margin}. When a worker calls
 * the dependency, it reports the moment ({@link #called}, batched), and the log moves that permit's
 * time to the call: later slots count from the real calls, so a call that left late (a busy
 * machine, a pause) cannot crowd the next window. Two calls {@code limit} permits apart are
 * therefore at least {@code window} apart as the workers saw them; the margin covers the way from a
 * worker's call to the downstream, and no window of {@code period} at the downstream sees more than
 * {@code limit} calls. Even spacing keeps calls from queuing at the downstream in bursts.
 *
 * <p>Slots are granted at most {@link #horizon} ahead, so the rate follows live changes. With a
 * backlog the achieved rate is {@code limit / window}: 97 % of the limit for periods of a second or
 * more.
 *
 * <p>Thread-safe; every call is its own transaction. The worker and PostgreSQL clocks are compared:
 * keep them in sync (NTP).
 */
public final class RateGrants {
  /** The margin is this share of the period: 3 % (but see {@link #MIN_MARGIN_MS}). */
  public static final double MARGIN_SHARE = 0.03;

  /** ... and at least this long: 35 ms. */
  public static final long MIN_MARGIN_MS = 35;

  /** Slots are granted two spacings ahead, but at least this far: 100 ms. */
  public static final Duration MIN_HORIZON = Duration.ofMillis(100);

  /** ... and at most this far: 1 s. */
  public static final Duration MAX_HORIZON = Duration.ofSeconds(1);

  /** The margin added to a period (see the class comment). */
  public static Duration margin(Duration period) {
    return Duration.ofMillis(Math.max(MIN_MARGIN_MS, Math.round(period.toMillis() * MARGIN_SHARE)));
  }

  /** How far ahead slots are granted for a spacing. */
  static Duration horizon(Duration spacing) {
    Duration two = spacing.multipliedBy(2);
    if (two.compareTo(MIN_HORIZON) < 0) {
      return MIN_HORIZON;
    }
    return two.compareTo(MAX_HORIZON) > 0 ? MAX_HORIZON : two;
  }

  /**
   * What a grant gave: its permits' ids and slots (as many as were granted); when fewer than asked,
   * {@code nextFree} is when asking again gives more; {@code limited} false when the dependency has
   * no rate limit (all granted at once, nothing logged, no permits).
   */
  public record Grant(
      int granted, Instant nextFree, boolean limited, long[] permits, Instant[] slots) {
    public Grant(int granted, Instant nextFree, boolean limited) {
      this(granted, nextFree, limited, new long[0], new Instant[0]);
    }
  }

  /** A permit's call: the moment the worker called the dependency with it. */
  public record Call(long permit, Instant at) {}

  private static final String CALLED =
      """
      UPDATE ferry.dependency_starts s SET at = greatest(s.at, u.at)
      FROM unnest(?::bigint[], ?::timestamptz[]) AS u(id, at)
      WHERE s.id = u.id
      """;

  private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('ferry-rate:' || ?))";

  private static final String LIMIT =
      """
      SELECT rate_limit, rate_period_ms, clock_timestamp() AS now
      FROM ferry.dependency_limits WHERE dependency = ? AND rate_limit IS NOT NULL
      """;

  /** The latest permits' times, newest first (as many as the limit). */
  private static final String RECENT =
      "SELECT at FROM ferry.dependency_starts WHERE dependency = ? ORDER BY at DESC LIMIT ?";

  private static final String PRUNE =
      "DELETE FROM ferry.dependency_starts WHERE dependency = ? AND at < ?";

  private static final String LOG =
      """
      INSERT INTO ferry.dependency_starts (dependency, slot, at)
      SELECT ?, u.at, u.at FROM unnest(?::timestamptz[]) WITH ORDINALITY AS u(at, n) ORDER BY u.n
      RETURNING id, slot
      """;

  /** The latest slot granted (spacing counts from slots, not from calls). */
  private static final String LATEST_SLOT =
      "SELECT max(slot) FROM ferry.dependency_starts WHERE dependency = ?";

  private static final String RATED =
      "SELECT dependency FROM ferry.dependency_limits WHERE rate_limit IS NOT NULL";

  private final DataSource dataSource;

  public RateGrants(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Grants up to {@code wanted} start permits for {@code dependency}, with their slots. */
  public Grant grant(String dependency, int wanted) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Grant g = grant(c, dependency, wanted);
        c.commit();
        return g;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static Grant grant(Connection c, String dependency, int wanted) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK)) {
      ps.setString(1, dependency);
      ps.executeQuery().close();
    }
    int limit;
    Duration window;
    Instant now;
    try (PreparedStatement ps = c.prepareStatement(LIMIT)) {
      ps.setString(1, dependency);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new Grant(wanted, null, false);
        }
        limit = rs.getInt(1);
        Duration period = Duration.ofMillis(rs.getInt(2));
        window = period.plus(margin(period));
        now = rs.getTimestamp(3).toInstant();
      }
    }
    Duration spacing = window.dividedBy(limit);
    Instant horizon = now.plus(horizon(spacing));
    // Newest first: recent.get(i) is the permit i + 1 places back.
    List<Instant> recent = new ArrayList<>(limit);
    try (PreparedStatement ps = c.prepareStatement(RECENT)) {
      ps.setString(1, dependency);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          recent.add(rs.getTimestamp(1).toInstant());
        }
      }
    }
    Instant latestSlot = null;
    try (PreparedStatement ps = c.prepareStatement(LATEST_SLOT)) {
      ps.setString(1, dependency);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getTimestamp(1) != null) {
          latestSlot = rs.getTimestamp(1).toInstant();
        }
      }
    }
    List<Instant> slots = new ArrayList<>();
    Instant next = null;
    for (int k = 1; k <= wanted; k++) {
      Instant slot = nextSlot(recent, latestSlot, slots, limit, spacing, window, now);
      if (slot.isAfter(horizon)) {
        next = slot.minus(horizon(spacing));
        break;
      }
      slots.add(slot);
    }
    try (PreparedStatement ps = c.prepareStatement(PRUNE)) {
      ps.setString(1, dependency);
      ps.setTimestamp(2, Timestamp.from(now.minus(window).minus(window)));
      ps.executeUpdate();
    }
    long[] ids = new long[slots.size()];
    Instant[] at = new Instant[slots.size()];
    if (!slots.isEmpty()) {
      Timestamp[] ts = slots.stream().map(Timestamp::from).toArray(Timestamp[]::new);
      try (PreparedStatement ps = c.prepareStatement(LOG)) {
        ps.setString(1, dependency);
        ps.setArray(2, c.createArrayOf("timestamptz", ts));
        try (ResultSet rs = ps.executeQuery()) {
          int i = 0;
          while (rs.next()) {
            ids[i] = rs.getLong(1);
            at[i] = rs.getTimestamp(2).toInstant();
            i++;
          }
        }
      }
    }
    return new Grant(slots.size(), next, true, ids, at);
  }

  /**
   * The next permit's slot: not before now, one spacing after the latest slot, and a window after
   * the permit {@code limit} places before it (its call, once reported).
   *
   * @param recent existing permits' times (calls, or slots while not reported), newest first
   * @param latestSlot the latest existing slot, or null
   * @param added the slots of this grant so far, oldest first
   */
  static Instant nextSlot(
      List<Instant> recent,
      Instant latestSlot,
      List<Instant> added,
      int limit,
      Duration spacing,
      Duration window,
      Instant now) {
    Instant slot = now;
    Instant latest =
        !added.isEmpty() ? added.get(added.size() - 1) : recent.isEmpty() ? null : recent.get(0);
    if (latest != null && latest.plus(spacing).isAfter(slot)) {
      slot = latest.plus(spacing);
    }
    // The permit `limit` places back: among this grant's slots, or the existing ones.
    int back = limit - added.size(); // 1-based position among the existing, newest first
    Instant before;
    if (back <= 0) {
      before = added.get(added.size() - limit);
    } else {
      before = back <= recent.size() ? recent.get(back - 1) : null;
    }
    if (before != null && before.plus(window).isAfter(slot)) {
      slot = before.plus(window);
    }
    return slot;
  }

  /**
   * Moves permits' times to when they were used: later grants then count from the real calls, so a
   * call that left late cannot crowd the next window.
   */
  public void called(List<Call> calls) throws SQLException {
    if (calls.isEmpty()) {
      return;
    }
    Long[] ids = new Long[calls.size()];
    Timestamp[] at = new Timestamp[calls.size()];
    for (int i = 0; i < calls.size(); i++) {
      ids[i] = calls.get(i).permit();
      at[i] = Timestamp.from(calls.get(i).at());
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(CALLED)) {
      Array idArray = c.createArrayOf("bigint", ids);
      ps.setArray(1, idArray);
      ps.setArray(2, c.createArrayOf("timestamptz", at));
      ps.executeUpdate();
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
