package dev.ferry.orchestrator.dispatch;

import dev.ferry.orchestrator.store.ClaimedJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The dispatcher's SQL: claiming due jobs for their next attempt, and when to look again. Runs in
 * the caller's transaction. Stateless and thread-safe.
 */
public final class DispatchStore {
  private static final String CLAIM_DUE =
      """
      WITH due AS (
        SELECT id FROM ferry.jobs j
        WHERE status IN ('PENDING', 'RETRY_WAIT') AND next_run_at <= now()
          -- hold back jobs whose dependency's breaker is OPEN: they would only be deferred
          AND NOT EXISTS (
            SELECT 1 FROM ferry.circuit_breakers b
            WHERE b.dependency = j.dependency AND b.state = 'OPEN'
              AND (b.retry_at IS NULL OR b.retry_at > now()))
          -- A keyed job waits for a slot of its key (FlowClaims); one in RETRY_WAIT holds one.
          AND (j.concurrency_key IS NULL OR j.status = 'RETRY_WAIT')
          -- Jobs of a dependency with limits are FlowClaims' too.
          AND NOT EXISTS (
            SELECT 1 FROM ferry.dependency_limits l WHERE l.dependency = j.dependency)
          -- Low priorities wait while the work topic has a backlog, unless they aged.
          AND (j.priority <= 3 OR ?::boolean
               OR j.next_run_at <= now() - ? * interval '1 millisecond')
        ORDER BY priority, next_run_at
        LIMIT ?
        FOR UPDATE SKIP LOCKED)
      UPDATE ferry.jobs j
      SET status = 'QUEUED', attempts = j.attempts + 1, run_seq = j.run_seq + 1, updated_at = now()
      FROM due WHERE j.id = due.id
      RETURNING j.id, j.attempts, j.run_seq, j.type, j.payload::text AS payload, j.dependency,
                j.timeout_ms, j.crashes, j.traceparent, j.priority
      """;

  /** Whether fewer than {@code n} work items wait on the topics (jobs QUEUED): a bounded count. */
  private static final String BACKLOG_SMALL =
      """
      SELECT count(*) < ? FROM (SELECT 1 FROM ferry.jobs WHERE status = 'QUEUED' LIMIT ?) q
      """;

  /**
   * When the dispatcher should look again: the next job to fall due, or the end of an OPEN
   * breaker's period (jobs held back for it become due then). Both are index lookups.
   */
  private static final String NEXT_DUE =
      """
      SELECT least(
        (SELECT min(next_run_at) FROM ferry.jobs
         WHERE status IN ('PENDING', 'RETRY_WAIT') AND next_run_at > now()),
        (SELECT min(retry_at) FROM ferry.circuit_breakers
         WHERE state = 'OPEN' AND retry_at > now())) AS next_due
      """;

  /**
   * Claims up to {@code limit} due jobs without flow constraints for their next attempt, most
   * urgent priority first: they become {@code QUEUED} with attempts + 1. Rows locked by another
   * dispatcher are skipped, so several orchestrators never claim the same job. Jobs of priority 4
   * and 5 are claimed only while fewer than {@code limit} jobs are QUEUED (the work topic has no
   * backlog), or once they waited {@code aging}. Keyed jobs and jobs of dependencies with limits
   * are left to {@link FlowClaims}.
   */
  public List<ClaimedJob> claimDue(Connection c, int limit, Duration aging) throws SQLException {
    boolean lowMayGo;
    try (PreparedStatement ps = c.prepareStatement(BACKLOG_SMALL)) {
      ps.setInt(1, limit);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        lowMayGo = rs.getBoolean(1);
      }
    }
    try (PreparedStatement ps = c.prepareStatement(CLAIM_DUE)) {
      ps.setBoolean(1, lowMayGo);
      ps.setLong(2, aging.toMillis());
      ps.setInt(3, limit);
      return claimed(ps);
    }
  }

  /** The claimed jobs a {@code RETURNING} of {@link #CLAIM_DUE}'s columns gives. */
  static List<ClaimedJob> claimed(PreparedStatement ps) throws SQLException {
    List<ClaimedJob> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new ClaimedJob(
                rs.getObject("id", UUID.class),
                rs.getInt("attempts"),
                rs.getLong("run_seq"),
                rs.getString("type"),
                rs.getString("payload"),
                rs.getString("dependency"),
                rs.getInt("timeout_ms"),
                rs.getInt("crashes"),
                rs.getString("traceparent"),
                rs.getInt("priority")));
      }
    }
    return out;
  }

  /** When something may next become dispatchable, or null if nothing waits. */
  public Instant nextDue(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(NEXT_DUE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      Timestamp t = rs.getTimestamp("next_due");
      return t == null ? null : t.toInstant();
    }
  }
}
