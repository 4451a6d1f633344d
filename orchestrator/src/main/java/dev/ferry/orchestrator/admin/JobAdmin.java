package dev.ferry.orchestrator.admin;

import static dev.ferry.orchestrator.store.Transactions.inTransaction;

import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.store.JobStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Operator actions on jobs, each one guarded statement in one transaction:
 *
 * <ul>
 *   <li><b>cancel</b>: {@code PENDING}, {@code RETRY_WAIT}, {@code QUEUED} or {@code RUNNING} →
 *       {@code CANCELLED}. No further attempt starts (the dispatcher only claims {@code
 *       PENDING}/{@code RETRY_WAIT}, the applier ignores outcomes of finished jobs). Workers are
 *       told on channel {@value #CANCEL_CHANNEL}: a running handler is interrupted, a queued work
 *       item is skipped when it arrives.
 *   <li><b>retry</b> (re-drive): {@code FAILED} or {@code CANCELLED} → {@code PENDING}, due now.
 *       The attempt counter and history are kept; the job gets {@code extraAttempts} more attempts
 *       ({@code max_attempts = attempts + extraAttempts}). Fan-out parents are not re-driven
 *       themselves (their children are: re-drive those).
 * </ul>
 */
public final class JobAdmin {
  /**
   * Channel on which workers hear about cancelled jobs. Payload: comma-separated {@code <job
   * id>:<run>} pairs, the run being the job's dispatch fencing token at cancel time, so a later
   * re-drive (a higher run) is not mistaken for the cancelled dispatch.
   */
  public static final String CANCEL_CHANNEL = "ferry_cancel";

  /**
   * Cancelled jobs per notification on {@link #CANCEL_CHANNEL}: 180. NOTIFY payloads are limited to
   * 8000 bytes, ~200 {@code <id>:<run>} entries.
   */
  private static final int CANCELS_PER_NOTIFY = 180;

  private static final String NOTIFY_CANCEL = "SELECT pg_notify(?, ?)";

  private final JobStore jobs = new JobStore();

  /** A job an action changed. */
  public record Changed(UUID id, UUID parentId, int attempts, long run, JobStatus previous) {}

  /** The statuses {@link #cancel} changes. */
  private static final String LIVE =
      "('PENDING', 'RETRY_WAIT', 'QUEUED', 'RUNNING', 'WAITING_CHILDREN')";

  /** The {@link Selection} as SQL; {@link #bind} binds it (each value twice). */
  private static final String SELECTED =
      """
      (cardinality(?::uuid[]) = 0 OR id = ANY(?::uuid[]))
          AND (?::text IS NULL OR status = ?::text) AND (?::text IS NULL OR type = ?::text)
          AND (?::text IS NULL OR dependency = ?::text) AND (?::uuid IS NULL OR parent_id = ?::uuid)
          AND (?::text IS NULL OR key = ?::text)
          AND (?::text IS NULL OR last_error ILIKE '%' || ?::text || '%' ESCAPE '\\')
          AND (?::timestamptz IS NULL OR created_at >= ?::timestamptz)
          AND (?::timestamptz IS NULL OR created_at < ?::timestamptz)\
      """;

  /** Jobs {@link #cancel} would change, then jobs {@link #retry} would change. */
  private static final String COUNT =
      """
      SELECT count(*) FILTER (WHERE status IN %s) AS cancellable,
             count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED') AND children_total = 0)
               AS retryable
      FROM ferry.jobs WHERE %s
      """
          .formatted(LIVE, SELECTED);

  /**
   * Cancels the selected live jobs. {@code CANCEL} and {@code RETRY} select alike (bound by {@link
   * #run}): by id (none = any), status and type (null = any), each given twice.
   */
  private static final String CANCEL =
      """
      WITH target AS (
        SELECT id, status FROM ferry.jobs
        WHERE status IN %s
          AND %s
        FOR UPDATE)
      UPDATE ferry.jobs j
      SET status = 'CANCELLED', finished_at = now(), updated_at = now()
      FROM target WHERE j.id = target.id
      RETURNING j.id, j.parent_id, j.attempts, j.run_seq, target.status AS previous
      """
          .formatted(LIVE, SELECTED);

  private static final String CLOSE_OPEN_ATTEMPTS =
      """
      UPDATE ferry.job_attempts SET outcome = 'CANCELLED', finished_at = now(),
             error = 'cancelled by an operator'
      WHERE job_id = ANY(?::uuid[]) AND outcome IS NULL
      """;

  private static final String RETRY =
      """
      WITH candidate AS (
        SELECT id, status, unique_key, unique_for_ms, created_at FROM ferry.jobs
        WHERE status IN ('FAILED', 'CANCELLED') AND children_total = 0
          AND %s
        FOR UPDATE),
      -- A job whose "while active" unique key is held by an unfinished job stays as it is, and
      -- of several selected jobs of one such key only the newest comes back.
      target AS (
        SELECT id, status FROM candidate
        WHERE unique_key IS NULL OR unique_for_ms IS NOT NULL
        UNION ALL
        (SELECT DISTINCT ON (c.unique_key) c.id, c.status FROM candidate c
         WHERE c.unique_key IS NOT NULL AND c.unique_for_ms IS NULL
           AND NOT EXISTS (
             SELECT 1 FROM ferry.jobs o
             WHERE o.unique_key = c.unique_key AND o.unique_for_ms IS NULL
               AND o.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
         ORDER BY c.unique_key, c.created_at DESC))
      UPDATE ferry.jobs j
      SET status = 'PENDING', next_run_at = now(), finished_at = NULL, result = NULL,
          max_attempts = j.attempts + ?, updated_at = now()
      FROM target WHERE j.id = target.id
      RETURNING j.id, j.parent_id, j.attempts, j.run_seq, target.status AS previous
      """
          .formatted(SELECTED);

  /** Cancels the selected jobs; returns those that changed. Commits. */
  public List<Changed> cancel(Connection c, Selection s) throws SQLException {
    return inTransaction(
        c,
        () -> {
          List<Changed> changed = run(c, CANCEL, s, null);
          if (!changed.isEmpty()) {
            UUID[] ids = changed.stream().map(Changed::id).toArray(UUID[]::new);
            // A cancelled parent takes its whole tree with it; a cancelled child counts as
            // finished for its parent.
            FanIn.cancelDescendants(c, List.of(ids), "cancelled with its parent");
            new FanIn()
                .apply(
                    c,
                    changed.stream()
                        .map(
                            ch ->
                                new FanIn.Finished(
                                    ch.id(), ch.parentId(), JobStatus.CANCELLED, null))
                        .toList(),
                    java.time.Instant.now());
            // Key slots and dependency capacity the jobs held are free: wake the dispatchers.
            jobs.notifyDue(c);
            String[] entries =
                changed.stream().map(ch -> ch.id() + ":" + ch.run()).toArray(String[]::new);
            try (PreparedStatement ps = c.prepareStatement(CLOSE_OPEN_ATTEMPTS)) {
              ps.setArray(1, c.createArrayOf("uuid", ids));
              ps.executeUpdate();
            }
            for (int i = 0; i < entries.length; i += CANCELS_PER_NOTIFY) {
              StringBuilder payload = new StringBuilder();
              for (int k = i; k < Math.min(entries.length, i + CANCELS_PER_NOTIFY); k++) {
                payload.append(k > i ? "," : "").append(entries[k]);
              }
              try (PreparedStatement ps = c.prepareStatement(NOTIFY_CANCEL)) {
                ps.setString(1, CANCEL_CHANNEL);
                ps.setString(2, payload.toString());
                ps.execute();
              }
            }
          }
          return changed;
        });
  }

  /** Re-drives the selected jobs with {@code extraAttempts} more attempts. Commits. */
  public List<Changed> retry(Connection c, Selection s, int extraAttempts) throws SQLException {
    if (extraAttempts < 1) {
      throw new IllegalArgumentException("--attempts must be >= 1 but was " + extraAttempts);
    }
    return inTransaction(
        c,
        () -> {
          List<Changed> changed = run(c, RETRY, s, extraAttempts);
          if (!changed.isEmpty()) {
            uncount(c, changed);
            jobs.notifyDue(c);
          }
          return changed;
        });
  }

  /**
   * A re-driven child no longer counts as finished for a parent that still waits: without this it
   * would be counted again when it finishes, and the parent would complete early.
   */
  private static final String UNCOUNT =
      """
      UPDATE ferry.jobs p
      SET children_done = p.children_done - u.done, children_failed = p.children_failed - u.failed,
          updated_at = now()
      FROM unnest(?::uuid[], ?::int[], ?::int[]) AS u(id, done, failed)
      WHERE p.id = u.id AND p.status = 'WAITING_CHILDREN'
      """;

  private static void uncount(Connection c, List<Changed> changed) throws SQLException {
    java.util.Map<UUID, int[]> byParent = new java.util.LinkedHashMap<>();
    for (Changed ch : changed) {
      if (ch.parentId() != null) {
        int[] n = byParent.computeIfAbsent(ch.parentId(), k -> new int[2]);
        n[0]++;
        if (ch.previous() == JobStatus.FAILED) {
          n[1]++;
        }
      }
    }
    if (byParent.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(UNCOUNT)) {
      ps.setArray(1, c.createArrayOf("uuid", byParent.keySet().toArray()));
      ps.setArray(2, c.createArrayOf("int4", byParent.values().stream().map(n -> n[0]).toArray()));
      ps.setArray(3, c.createArrayOf("int4", byParent.values().stream().map(n -> n[1]).toArray()));
      ps.executeUpdate();
    }
  }

  /** How many jobs {@link #cancel} and {@link #retry} would change now (a confirmation's count). */
  public record Counts(long cancellable, long retryable) {}

  /** Counts what the actions would change, without changing anything. */
  public Counts count(Connection c, Selection s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(COUNT)) {
      bind(c, ps, s);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Counts(rs.getLong("cancellable"), rs.getLong("retryable"));
      }
    }
  }

  /** Binds {@link #SELECTED} from parameter 1; returns the next parameter's index. */
  private static int bind(Connection c, PreparedStatement ps, Selection s) throws SQLException {
    var ids = c.createArrayOf("uuid", s.ids().toArray());
    int i = 1;
    i = twice(ps, i, ids);
    i = twice(ps, i, s.status() == null ? null : s.status().name());
    i = twice(ps, i, s.type());
    i = twice(ps, i, s.dependency());
    i = twice(ps, i, s.parent());
    i = twice(ps, i, s.key());
    i = twice(ps, i, s.errorContains() == null ? null : likeLiteral(s.errorContains()));
    i = twice(ps, i, s.createdFrom() == null ? null : Timestamp.from(s.createdFrom()));
    i = twice(ps, i, s.createdTo() == null ? null : Timestamp.from(s.createdTo()));
    return i;
  }

  private static int twice(PreparedStatement ps, int i, Object v) throws SQLException {
    if (v instanceof String text) {
      ps.setString(i, text);
      ps.setString(i + 1, text);
    } else if (v instanceof Timestamp t) {
      ps.setTimestamp(i, t);
      ps.setTimestamp(i + 1, t);
    } else if (v instanceof java.sql.Array a) {
      ps.setArray(i, a);
      ps.setArray(i + 1, a);
    } else {
      ps.setObject(i, v, Types.OTHER);
      ps.setObject(i + 1, v, Types.OTHER);
    }
    return i + 2;
  }

  /** {@code text} as a literal inside LIKE: its %, _ and \ match themselves. */
  public static String likeLiteral(String text) {
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }

  private static List<Changed> run(Connection c, String sql, Selection s, Integer extra)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int next = bind(c, ps, s);
      if (extra != null) {
        ps.setInt(next, extra);
      }
      List<Changed> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Changed(
                  rs.getObject("id", UUID.class),
                  rs.getObject("parent_id", UUID.class),
                  rs.getInt("attempts"),
                  rs.getLong("run_seq"),
                  JobStatus.valueOf(rs.getString("previous"))));
        }
      }
      return out;
    }
  }
}
