package dev.ferry.orchestrator.rescue;

import dev.ferry.orchestrator.store.UnnestBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The rescuer's SQL: finding attempts of dead workers (claimed with {@code FOR UPDATE SKIP LOCKED},
 * so several orchestrators never take back the same one), taking them back in one guarded
 * statement, and failing one that cannot be rescued. Runs in the caller's transaction. Stateless
 * and thread-safe.
 */
final class RescueStore {
  private static final String FIND_STUCK =
      """
      SELECT j.id, j.crashes, j.worker_id, j.started_at,
             extract(epoch FROM now() - coalesce(w.heartbeat_at, j.updated_at))::bigint AS silent_s,
             coalesce(w.started_at > j.updated_at, false) AS restarted
      FROM ferry.jobs j LEFT JOIN ferry.workers w ON w.id = j.worker_id
      WHERE j.status = 'RUNNING'
        AND j.updated_at < now() - make_interval(secs => ?)
        -- the worker is silent, gone, or was restarted (same id) after the attempt started
        AND (w.id IS NULL OR w.heartbeat_at < now() - make_interval(secs => ?)
             OR w.started_at > j.updated_at)
        -- jobs set aside after their rescue failed on their own
        AND NOT (j.id = ANY(?::uuid[]))
      ORDER BY j.id
      LIMIT ?
      FOR UPDATE OF j SKIP LOCKED
      """;

  private static final String TAKE_BACK =
      """
      UPDATE ferry.jobs j
      SET status = u.status, crashes = j.crashes + 1,
          next_run_at = coalesce(u.next_run_at, j.next_run_at), last_error = u.error,
          finished_at = u.finished_at, updated_at = now()
      FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::timestamptz[], ?::text[], ?::timestamptz[])
           AS u(id, run, status, next_run_at, error, finished_at)
      WHERE j.id = u.id AND j.status = 'RUNNING' AND j.run_seq = u.run
      """;

  private static final String FAIL_UNRESCUABLE =
      """
      UPDATE ferry.jobs SET status = 'FAILED', last_error = ?, finished_at = now(),
             updated_at = now()
      WHERE id = ? AND status = 'RUNNING'
      """;

  private static final String PING = "SELECT 1";

  /**
   * Locks up to {@code limit} {@code RUNNING} jobs not updated for {@code after} whose worker has
   * been silent that long, is gone, or restarted since; skips {@code setAside}.
   */
  Map<UUID, RescuePolicy.Stuck> findStuck(
      Connection c, Duration after, Collection<UUID> setAside, int limit) throws SQLException {
    Map<UUID, RescuePolicy.Stuck> out = new LinkedHashMap<>();
    double secs = after.toMillis() / 1000.0;
    try (PreparedStatement ps = c.prepareStatement(FIND_STUCK)) {
      ps.setDouble(1, secs);
      ps.setDouble(2, secs);
      ps.setArray(3, c.createArrayOf("uuid", setAside.toArray(UUID[]::new)));
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject("id", UUID.class);
          Timestamp started = rs.getTimestamp("started_at");
          out.put(
              id,
              new RescuePolicy.Stuck(
                  id,
                  rs.getInt("crashes"),
                  rs.getString("worker_id"),
                  started == null ? null : started.toInstant(),
                  rs.getLong("silent_s"),
                  rs.getBoolean("restarted")));
        }
      }
    }
    return out;
  }

  /** Takes the jobs back (guarded by status and run); each one's crash count goes up. */
  void takeBack(Connection c, List<RescuePolicy.TakeBack> takeBacks) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TAKE_BACK)) {
      new UnnestBinder(c, ps)
          .uuids(takeBacks, RescuePolicy.TakeBack::id)
          .longs(takeBacks, RescuePolicy.TakeBack::run)
          .texts(takeBacks, t -> t.status().name())
          .timestamps(takeBacks, RescuePolicy.TakeBack::nextRunAt)
          .texts(takeBacks, RescuePolicy.TakeBack::error)
          .timestamps(takeBacks, RescuePolicy.TakeBack::finishedAt);
      ps.executeUpdate();
    }
  }

  /** Ends a still {@code RUNNING} job FAILED with {@code error}; returns whether it did. */
  boolean failUnrescuable(Connection c, UUID id, String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FAIL_UNRESCUABLE)) {
      ps.setString(1, error);
      ps.setObject(2, id);
      return ps.executeUpdate() == 1;
    }
  }

  /** A round trip, to tell whether the database is reachable. */
  void ping(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PING)) {
      ps.execute();
    }
  }
}
