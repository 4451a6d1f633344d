package dev.ferry.orchestrator.admin;

import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.store.JobStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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

  /**
   * Cancels the selected live jobs. {@code CANCEL} and {@code RETRY} select alike (bound by {@link
   * #run}): by id (none = any), status and type (null = any), each given twice.
   */
  private static final String CANCEL =
      """
      WITH target AS (
        SELECT id, status FROM ferry.jobs
        WHERE status IN ('PENDING', 'RETRY_WAIT', 'QUEUED', 'RUNNING', 'WAITING_CHILDREN')
          AND (cardinality(?::uuid[]) = 0 OR id = ANY(?::uuid[]))
          AND (?::text IS NULL OR status = ?::text) AND (?::text IS NULL OR type = ?::text)
        FOR UPDATE)
      UPDATE ferry.jobs j
      SET status = 'CANCELLED', finished_at = now(), updated_at = now()
      FROM target WHERE j.id = target.id
      RETURNING j.id, j.parent_id, j.attempts, j.run_seq, target.status AS previous
      """;

  private static final String CLOSE_OPEN_ATTEMPTS =
      """
      UPDATE ferry.job_attempts SET outcome = 'CANCELLED', finished_at = now(),
             error = 'cancelled by an operator'
      WHERE job_id = ANY(?::uuid[]) AND outcome IS NULL
      """;

  private static final String RETRY =
      """
      WITH target AS (
        SELECT id, status FROM ferry.jobs
        WHERE status IN ('FAILED', 'CANCELLED') AND children_total = 0
          AND (cardinality(?::uuid[]) = 0 OR id = ANY(?::uuid[]))
          AND (?::text IS NULL OR status = ?::text) AND (?::text IS NULL OR type = ?::text)
        FOR UPDATE)
      UPDATE ferry.jobs j
      SET status = 'PENDING', next_run_at = now(), finished_at = NULL, result = NULL,
          max_attempts = j.attempts + ?, updated_at = now()
      FROM target WHERE j.id = target.id
      RETURNING j.id, j.parent_id, j.attempts, j.run_seq, target.status AS previous
      """;

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

  private interface Work<T> {
    T run() throws SQLException;
  }

  private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      T t = work.run();
      c.commit();
      return t;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private static List<Changed> run(Connection c, String sql, Selection s, Integer extra)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      var ids = c.createArrayOf("uuid", s.ids().toArray());
      String status = s.status() == null ? null : s.status().name();
      ps.setArray(1, ids);
      ps.setArray(2, ids);
      ps.setString(3, status);
      ps.setString(4, status);
      ps.setString(5, s.type());
      ps.setString(6, s.type());
      if (extra != null) {
        ps.setInt(7, extra);
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
