package dev.ferry.orchestrator.schedule;

import dev.ferry.orchestrator.store.UnnestBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of {@code ferry.schedules}: intake's upsert of schedule definitions, and the scheduler's
 * claim of due schedules ({@code FOR UPDATE SKIP LOCKED}: one orchestrator fires a schedule's tick,
 * the others skip it) and its advance. Stateless and thread-safe.
 */
public final class ScheduleStore {
  /** Channel on which a changed schedule wakes the schedulers. */
  public static final String CHANNEL = "ferry_schedules";

  /** A schedule definition from a submission; {@code nextFireAt} computed from now. */
  public record Definition(
      String name,
      String cron,
      String timeZone,
      String templateJson,
      String misfire,
      boolean enabled,
      Instant nextFireAt) {}

  /** A due schedule, locked by the claiming transaction. */
  public record Due(
      String name,
      String cron,
      String timeZone,
      String templateJson,
      String misfire,
      Instant nextFireAt,
      Instant lastFireAt) {}

  /**
   * Creates or replaces schedules. The next fire time is kept when neither the expression nor the
   * zone changed and the schedule stays enabled (re-submitting a definition skips no tick);
   * otherwise it starts again from now.
   */
  private static final String UPSERT =
      """
      INSERT INTO ferry.schedules AS s (name, cron, time_zone, template, misfire, enabled,
                                        next_fire_at)
      SELECT u.name, u.cron, u.time_zone, u.template::jsonb, u.misfire, u.enabled, u.next_fire_at
      FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::boolean[],
                  ?::timestamptz[])
           AS u(name, cron, time_zone, template, misfire, enabled, next_fire_at)
      ORDER BY u.name
      ON CONFLICT (name) DO UPDATE
      SET cron = excluded.cron, time_zone = excluded.time_zone, template = excluded.template,
          misfire = excluded.misfire, enabled = excluded.enabled,
          next_fire_at = CASE
            WHEN s.cron = excluded.cron AND s.time_zone = excluded.time_zone AND s.enabled
                 AND s.next_fire_at IS NOT NULL
            THEN s.next_fire_at ELSE excluded.next_fire_at END,
          updated_at = now()
      """;

  private static final String CLAIM_DUE =
      """
      SELECT name, cron, time_zone, template::text AS template, misfire, next_fire_at,
             last_fire_at
      FROM ferry.schedules
      WHERE enabled AND next_fire_at <= ?
      ORDER BY next_fire_at
      LIMIT ?
      FOR UPDATE SKIP LOCKED
      """;

  private static final String ADVANCE =
      """
      UPDATE ferry.schedules s
      SET next_fire_at = u.next_fire_at, last_fire_at = coalesce(u.last_fire_at, s.last_fire_at),
          updated_at = now()
      FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[]) AS u(name, next_fire_at,
                                                                     last_fire_at)
      WHERE s.name = u.name
      """;

  private static final String NEXT_DUE =
      "SELECT min(next_fire_at) FROM ferry.schedules WHERE enabled";

  /** Creates or replaces the definitions (one per name: the caller keeps the last) and wakes. */
  public void upsert(Connection c, List<Definition> defs) throws SQLException {
    if (defs.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
      new UnnestBinder(c, ps)
          .texts(defs, Definition::name)
          .texts(defs, Definition::cron)
          .texts(defs, Definition::timeZone)
          .texts(defs, Definition::templateJson)
          .texts(defs, Definition::misfire)
          .bools(defs, Definition::enabled)
          .timestamps(defs, Definition::nextFireAt);
      ps.executeUpdate();
    }
    notifyChanged(c);
  }

  /** Wakes every scheduler (at commit). */
  public void notifyChanged(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
      ps.setString(1, CHANNEL);
      ps.execute();
    }
  }

  /** Locks and returns up to {@code limit} enabled schedules due at {@code now}. */
  public List<Due> claimDue(Connection c, Instant now, int limit) throws SQLException {
    List<Due> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(CLAIM_DUE)) {
      ps.setTimestamp(1, Timestamp.from(now));
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Due(
                  rs.getString("name"),
                  rs.getString("cron"),
                  rs.getString("time_zone"),
                  rs.getString("template"),
                  rs.getString("misfire"),
                  rs.getTimestamp("next_fire_at").toInstant(),
                  rs.getTimestamp("last_fire_at") == null
                      ? null
                      : rs.getTimestamp("last_fire_at").toInstant()));
        }
      }
    }
    return out;
  }

  /** A claimed schedule's new next fire time (null: never again) and last fire (null: none now). */
  public record Advance(String name, Instant nextFireAt, Instant lastFireAt) {}

  public void advance(Connection c, List<Advance> advances) throws SQLException {
    if (advances.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(ADVANCE)) {
      new UnnestBinder(c, ps)
          .texts(advances, Advance::name)
          .timestamps(advances, Advance::nextFireAt)
          .timestamps(advances, Advance::lastFireAt);
      ps.executeUpdate();
    }
  }

  /** The earliest next fire time of an enabled schedule, or null. */
  public Instant nextDue(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(NEXT_DUE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      Timestamp t = rs.getTimestamp(1);
      return t == null ? null : t.toInstant();
    }
  }
}
