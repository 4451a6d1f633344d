package dev.ferry.orchestrator.dispatch;

import dev.ferry.orchestrator.store.ClaimedJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
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
        ORDER BY next_run_at
        LIMIT ?
        FOR UPDATE SKIP LOCKED)
      UPDATE ferry.jobs j
      SET status = 'QUEUED', attempts = j.attempts + 1, run_seq = j.run_seq + 1, updated_at = now()
      FROM due WHERE j.id = due.id
      RETURNING j.id, j.attempts, j.run_seq, j.type, j.payload::text AS payload, j.dependency,
                j.timeout_ms, j.crashes, j.traceparent
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
   * Claims up to {@code limit} due jobs for their next attempt: they become {@code QUEUED} with
   * attempts + 1. Rows locked by another dispatcher are skipped, so several orchestrators never
   * claim the same job.
   */
  public List<ClaimedJob> claimDue(Connection c, int limit) throws SQLException {
    List<ClaimedJob> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(CLAIM_DUE)) {
      ps.setInt(1, limit);
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
                  rs.getString("traceparent")));
        }
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
