package dev.ferry.orchestrator.fanin;

import dev.ferry.orchestrator.store.UnnestBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Fan-in's SQL: locking parents, bumping their counters for a batch of finished children (one
 * statement for all parents), completing, reducing or failing a parent with its children's
 * aggregate, and cancelling descendants. Runs in the caller's transaction. Stateless and
 * thread-safe.
 */
final class FanInStore {
  /**
   * The aggregate of a parent's children: counts, each successful child's result and each other
   * child's error, keyed by the child's {@code key} (its id when it has none). A scalar subquery on
   * parent {@code p}, part of the statements below.
   */
  private static final String AGGREGATE =
      """
      (SELECT jsonb_build_object(
        'total', count(*),
        'succeeded', count(*) FILTER (WHERE c.status = 'SUCCEEDED'),
        'failed', count(*) FILTER (WHERE c.status = 'FAILED'),
        'cancelled', count(*) FILTER (WHERE c.status = 'CANCELLED'),
        'results', coalesce(jsonb_object_agg(coalesce(c.key, c.id::text),
                     coalesce(c.result, 'null'::jsonb)) FILTER (WHERE c.status = 'SUCCEEDED'), '{}'::jsonb),
        'errors', coalesce(jsonb_object_agg(coalesce(c.key, c.id::text),
                     to_jsonb(coalesce(c.last_error, c.status))) FILTER (WHERE c.status <> 'SUCCEEDED'), '{}'::jsonb))
      FROM ferry.jobs c WHERE c.parent_id = p.id)""";

  private static final String LOCK_PARENTS =
      "SELECT id FROM ferry.jobs WHERE id = ANY(?::uuid[]) ORDER BY id FOR UPDATE";

  private static final String COUNT =
      """
      UPDATE ferry.jobs p
      SET children_done = p.children_done + u.done, children_failed = p.children_failed + u.failed,
          updated_at = now()
      FROM unnest(?::uuid[], ?::int[], ?::int[]) AS u(id, done, failed)
      WHERE p.id = u.id AND p.status = 'WAITING_CHILDREN'
      RETURNING p.id, p.parent_id, p.children_done, p.children_total, p.children_failed,
                p.failure_policy, CASE WHEN p.spawned THEN NULL ELSE p.type END AS reducer_type,
                p.attempts, p.traceparent
      """;

  // Constant expressions: the aggregate is written once and compiled into each statement.
  private static final String COMPLETE =
      "UPDATE ferry.jobs p\n"
          + "SET status = 'SUCCEEDED', result = "
          + AGGREGATE
          + ",\n"
          + "    finished_at = now(), updated_at = now()\n"
          + "WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'\n"
          + "RETURNING p.result::text AS result\n";

  private static final String REDUCE =
      "UPDATE ferry.jobs p\n"
          + "SET status = 'PENDING',\n"
          + "    payload = jsonb_build_object('payload', p.payload, 'children', "
          + AGGREGATE
          + "),\n"
          + "    next_run_at = now(), updated_at = now()\n"
          + "WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'\n";

  private static final String FAIL =
      "UPDATE ferry.jobs p\n"
          + "SET status = 'FAILED', last_error = ?, result = "
          + AGGREGATE
          + ",\n"
          + "    finished_at = now(), updated_at = now()\n"
          + "WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'\n";

  /** Every non-terminal descendant of the given jobs becomes CANCELLED. */
  private static final String CANCEL_DESCENDANTS =
      """
      WITH RECURSIVE d AS (
        SELECT id FROM ferry.jobs WHERE parent_id = ANY(?::uuid[])
        UNION ALL
        SELECT j.id FROM ferry.jobs j JOIN d ON j.parent_id = d.id)
      UPDATE ferry.jobs SET status = 'CANCELLED', finished_at = now(), updated_at = now(),
             last_error = coalesce(last_error, ?)
      WHERE id IN (SELECT id FROM d)
        AND status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRY_WAIT', 'WAITING_CHILDREN')
      """;

  private static final String KEY_OF =
      "SELECT coalesce(key, id::text) AS key FROM ferry.jobs WHERE id = ?";

  /** A parent's share of a batch, as bound to {@link #COUNT}. */
  private record Counts(UUID id, int done, int failed) {}

  /**
   * Locks the parents in one order, so that two appliers' transactions (siblings arrive on
   * different partitions) wait for each other instead of deadlocking.
   */
  void lockParents(Connection c, Collection<UUID> parents) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK_PARENTS)) {
      new UnnestBinder(c, ps).uuidArray(parents);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // locked
        }
      }
    }
  }

  /**
   * Adds each parent's tally to its counters (parents still waiting only); returns those parents
   * with their counters after the update.
   */
  List<FanInPolicy.WaitingParent> count(Connection c, Map<UUID, FanInPolicy.Tally> tallies)
      throws SQLException {
    List<Counts> counts = new ArrayList<>(tallies.size());
    tallies.forEach((id, t) -> counts.add(new Counts(id, t.done(), t.failed())));
    List<FanInPolicy.WaitingParent> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(COUNT)) {
      new UnnestBinder(c, ps)
          .uuids(counts, Counts::id)
          .ints(counts, Counts::done)
          .ints(counts, Counts::failed);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new FanInPolicy.WaitingParent(
                  rs.getObject("id", UUID.class),
                  rs.getObject("parent_id", UUID.class),
                  rs.getInt("children_done"),
                  rs.getInt("children_total"),
                  rs.getInt("children_failed"),
                  rs.getString("failure_policy"),
                  rs.getString("reducer_type"),
                  rs.getInt("attempts"),
                  rs.getString("traceparent")));
        }
      }
    }
    return out;
  }

  /** The parent succeeds with its children's aggregate; returns that result (JSON text). */
  String complete(Connection c, UUID parent) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(COMPLETE)) {
      ps.setObject(1, parent);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString("result") : null;
      }
    }
  }

  /** The parent becomes due to run its reducer, with its payload and children's aggregate. */
  void reduce(Connection c, UUID parent) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(REDUCE)) {
      ps.setObject(1, parent);
      ps.executeUpdate();
    }
  }

  /** The parent fails with {@code error}, its children's aggregate as its result. */
  void fail(Connection c, UUID parent, String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FAIL)) {
      ps.setString(1, error);
      ps.setObject(2, parent);
      ps.executeUpdate();
    }
  }

  /** Cancels every non-terminal descendant; returns how many were cancelled. */
  int cancelDescendants(Connection c, List<UUID> roots, String reason) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CANCEL_DESCENDANTS)) {
      new UnnestBinder(c, ps).uuidArray(roots).text(reason);
      return ps.executeUpdate();
    }
  }

  /** A job's key, or its id as text when it has none. */
  String keyOf(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(KEY_OF)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString("key") : id.toString();
      }
    }
  }
}
