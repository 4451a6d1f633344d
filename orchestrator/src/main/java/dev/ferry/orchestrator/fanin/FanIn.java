package dev.ferry.orchestrator.fanin;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Fan-in: applies children that just finished to their parents, in the transaction that
 * finished them. Per batch each parent's counters are bumped once (one statement for all
 * parents), so a parent with 100,000 children is not a hot row per child; a child is counted
 * exactly once because only the guarded update that made it terminal reports it here.
 *
 * <p>A parent whose children are all finished completes: without a {@code type} it becomes
 * {@code SUCCEEDED} with the aggregate as its result; with a {@code type} it becomes
 * {@code PENDING} and its handler runs once with {@code {"payload": …, "children": aggregate}}
 * as input (reduce); a job whose handler spawned the children (dynamic fan-out) completes
 * like a parent without type. Under {@code fail-fast} the first {@code FAILED} child cancels the
 * remaining descendants and fails the parent with that child's error; under {@code collect}
 * the parent completes whatever its children's outcomes, the aggregate listing each. Parents
 * that finish are applied to their own parents in turn, up the tree.
 */
public final class FanIn {
  /** A job that just became terminal. */
  public record Finished(UUID id, UUID parentId, JobStatus status, String error) {}

  /**
   * What fan-in did: events to publish (with each parent's trace context), and whether a
   * reducer became due.
   */
  public record Effects(List<JobEvent> events, Map<UUID, String> traces, boolean due) {}

  /**
   * The aggregate of a parent's children: counts, each successful child's result and each
   * other child's error, keyed by the child's {@code key} (its id when it has none).
   */
  static final String AGGREGATE =
      """
      SELECT jsonb_build_object(
        'total', count(*),
        'succeeded', count(*) FILTER (WHERE c.status = 'SUCCEEDED'),
        'failed', count(*) FILTER (WHERE c.status = 'FAILED'),
        'cancelled', count(*) FILTER (WHERE c.status = 'CANCELLED'),
        'results', coalesce(jsonb_object_agg(coalesce(c.key, c.id::text),
                     coalesce(c.result, 'null'::jsonb)) FILTER (WHERE c.status = 'SUCCEEDED'), '{}'::jsonb),
        'errors', coalesce(jsonb_object_agg(coalesce(c.key, c.id::text),
                     to_jsonb(coalesce(c.last_error, c.status))) FILTER (WHERE c.status <> 'SUCCEEDED'), '{}'::jsonb))
      FROM ferry.jobs c WHERE c.parent_id = p.id
      """;

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
                p.failure_policy, CASE WHEN p.spawned THEN NULL ELSE p.type END, p.attempts,
                p.traceparent
      """;

  private static final String COMPLETE =
      """
      UPDATE ferry.jobs p
      SET status = 'SUCCEEDED', result = (%s), finished_at = now(), updated_at = now()
      WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'
      RETURNING p.result::text
      """.formatted(AGGREGATE);

  private static final String REDUCE =
      """
      UPDATE ferry.jobs p
      SET status = 'PENDING', payload = jsonb_build_object('payload', p.payload, 'children', (%s)),
          next_run_at = now(), updated_at = now()
      WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'
      """.formatted(AGGREGATE);

  private static final String FAIL =
      """
      UPDATE ferry.jobs p
      SET status = 'FAILED', last_error = ?, result = (%s), finished_at = now(), updated_at = now()
      WHERE p.id = ? AND p.status = 'WAITING_CHILDREN'
      """.formatted(AGGREGATE);

  /** Every non-terminal descendant of the given jobs becomes CANCELLED. */
  public static final String CANCEL_DESCENDANTS =
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

  /** Applies finished jobs to their parents, recursively. */
  public Effects apply(Connection c, List<Finished> finished, Instant now) throws SQLException {
    List<JobEvent> events = new ArrayList<>();
    Map<UUID, String> traces = new java.util.HashMap<>();
    boolean due = false;
    List<Finished> level = finished.stream().filter(f -> f.parentId() != null).toList();
    while (!level.isEmpty()) {
      Map<UUID, int[]> counts = new LinkedHashMap<>();
      Map<UUID, Finished> firstFailure = new LinkedHashMap<>();
      for (Finished f : level) {
        int[] n = counts.computeIfAbsent(f.parentId(), k -> new int[2]);
        n[0]++;
        if (f.status() == JobStatus.FAILED) {
          n[1]++;
          firstFailure.putIfAbsent(f.parentId(), f);
        }
      }
      List<Finished> next = new ArrayList<>();
      // Parents are shared by appliers (siblings arrive on different partitions): lock them in
      // one order so that two appliers' transactions wait for each other instead of deadlocking.
      try (PreparedStatement lock = c.prepareStatement(LOCK_PARENTS)) {
        lock.setArray(1, c.createArrayOf("uuid", counts.keySet().toArray()));
        try (ResultSet rs = lock.executeQuery()) {
          while (rs.next()) {
            // locked
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(COUNT)) {
        ps.setArray(1, c.createArrayOf("uuid", counts.keySet().toArray()));
        ps.setArray(2, c.createArrayOf("int4", counts.values().stream().map(n -> n[0]).toArray()));
        ps.setArray(3, c.createArrayOf("int4", counts.values().stream().map(n -> n[1]).toArray()));
        List<Object[]> parents = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            parents.add(new Object[] {rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                rs.getInt(3), rs.getInt(4), rs.getInt(5), rs.getString(6), rs.getString(7),
                rs.getInt(8), rs.getString(9)});
          }
        }
        for (Object[] p : parents) {
          UUID id = (UUID) p[0];
          UUID grandparent = (UUID) p[1];
          int done = (int) p[2];
          int total = (int) p[3];
          int failed = (int) p[4];
          boolean failFast = !"collect".equals(p[5]);
          String type = (String) p[6];
          int attempts = (int) p[7];
          if (p[8] != null) {
            traces.put(id, (String) p[8]);
          }
          if (failFast && failed > 0) {
            Finished child = firstFailure.get(id);
            String error = "child " + (child == null ? "?" : keyOf(c, child.id())) + " failed"
                + (child == null || child.error() == null ? "" : ": " + child.error());
            cancelDescendants(c, List.of(id), "cancelled: a sibling failed (fail-fast)");
            try (PreparedStatement f = c.prepareStatement(FAIL)) {
              f.setString(1, error);
              f.setObject(2, id);
              f.executeUpdate();
            }
            events.add(new JobEvent(id, grandparent, JobStatus.FAILED, attempts, null, error, now));
            next.add(new Finished(id, grandparent, JobStatus.FAILED, error));
          } else if (done >= total) {
            if (type == null) {
              String result;
              try (PreparedStatement s = c.prepareStatement(COMPLETE)) {
                s.setObject(1, id);
                try (ResultSet rs = s.executeQuery()) {
                  result = rs.next() ? rs.getString(1) : null;
                }
              }
              events.add(new JobEvent(id, grandparent, JobStatus.SUCCEEDED, attempts,
                  FerryJson.parse(result), null, now));
              next.add(new Finished(id, grandparent, JobStatus.SUCCEEDED, null));
            } else {
              try (PreparedStatement s = c.prepareStatement(REDUCE)) {
                s.setObject(1, id);
                s.executeUpdate();
              }
              due = true;
            }
          }
        }
      }
      level = next.stream().filter(f -> f.parentId() != null).toList();
    }
    return new Effects(events, traces, due);
  }

  /** Cancels every non-terminal descendant; returns how many were cancelled. */
  public static int cancelDescendants(Connection c, List<UUID> roots, String reason)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CANCEL_DESCENDANTS)) {
      ps.setArray(1, c.createArrayOf("uuid", roots.toArray()));
      ps.setString(2, reason);
      return ps.executeUpdate();
    }
  }

  private static String keyOf(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT coalesce(key, id::text) FROM ferry.jobs WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : id.toString();
      }
    }
  }
}
