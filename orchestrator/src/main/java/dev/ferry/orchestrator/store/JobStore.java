package dev.ferry.orchestrator.store;

import dev.ferry.core.json.BackoffCodec;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.JobStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The statements on job rows that several components share: the outcome applier, the dispatcher
 * (jobs it cannot send) and the rescuer all lock jobs, apply guarded changes, write attempt rows
 * and wake the dispatcher. What only one component runs lives in that component's store ({@code
 * IntakeStore}, {@code DispatchStore}, {@code OutcomeStore}, {@code FanInStore}).
 *
 * <p>Every method works on a whole batch with one statement (arrays and {@code unnest}, bound by
 * {@link UnnestBinder}), never one round trip per job, and runs in the caller's transaction.
 * Stateless and thread-safe.
 */
public final class JobStore {
  /** Channel notified when jobs become due, so dispatchers wake at once. */
  public static final String CHANNEL = "ferry_jobs";

  private static final String LOCK_JOBS =
      """
      SELECT id, parent_id, status, attempts, run_seq, max_attempts, backoff::text AS backoff,
             traceparent, type,
             concurrency_key IS NOT NULL OR EXISTS (
               SELECT 1 FROM ferry.dependency_limits l WHERE l.dependency = j.dependency)
               AS constrained
      FROM ferry.jobs j WHERE id = ANY(?::uuid[]) ORDER BY id FOR UPDATE
      """;

  private static final String APPLY_CHANGES =
      """
      UPDATE ferry.jobs j
      SET status = u.status, attempts = u.attempts,
          next_run_at = coalesce(u.next_run_at, j.next_run_at),
          result = coalesce(u.result::jsonb, j.result),
          last_error = coalesce(u.last_error, j.last_error),
          worker_id = coalesce(u.worker_id, j.worker_id),
          started_at = coalesce(u.started_at, j.started_at),
          finished_at = u.finished_at,
          updated_at = now()
      FROM unnest(?::uuid[], ?::text[], ?::int[], ?::bigint[], ?::text[], ?::int[],
                  ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],
                  ?::timestamptz[])
           AS u(id, expected_status, expected_attempts, expected_run, status, attempts,
                next_run_at, result, last_error, worker_id, started_at, finished_at)
      WHERE j.id = u.id AND j.status = u.expected_status AND j.attempts = u.expected_attempts
        AND j.run_seq = u.expected_run
      RETURNING j.id
      """;

  private static final String UPSERT_ATTEMPTS =
      """
      INSERT INTO ferry.job_attempts (job_id, attempt, worker_id, started_at, finished_at, outcome, error)
      SELECT * FROM unnest(?::uuid[], ?::int[], ?::text[], ?::timestamptz[], ?::timestamptz[],
                           ?::text[], ?::text[])
      ON CONFLICT (job_id, attempt) DO UPDATE
      SET finished_at = excluded.finished_at, outcome = excluded.outcome, error = excluded.error,
          worker_id = coalesce(excluded.worker_id, ferry.job_attempts.worker_id),
          started_at = coalesce(ferry.job_attempts.started_at, excluded.started_at)
      WHERE ferry.job_attempts.outcome IS NULL AND excluded.outcome IS NOT NULL
      """;

  private static final String PARENTS_OF =
      "SELECT id, parent_id FROM ferry.jobs WHERE id = ANY(?::uuid[]) AND parent_id IS NOT NULL";

  private static final String NOTIFY_DUE = "SELECT pg_notify(?, '')";

  /** Locks the given jobs (in id order, so concurrent appliers cannot deadlock). */
  public Map<UUID, JobRow> lockJobs(Connection c, Collection<UUID> ids) throws SQLException {
    Map<UUID, JobRow> rows = new HashMap<>();
    if (ids.isEmpty()) {
      return rows;
    }
    try (PreparedStatement ps = c.prepareStatement(LOCK_JOBS)) {
      new UnnestBinder(c, ps).uuidArray(ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject("id", UUID.class);
          rows.put(
              id,
              new JobRow(
                  id,
                  rs.getObject("parent_id", UUID.class),
                  JobStatus.valueOf(rs.getString("status")),
                  rs.getInt("attempts"),
                  rs.getLong("run_seq"),
                  rs.getInt("max_attempts"),
                  BackoffCodec.decode(FerryJson.parse(rs.getString("backoff"))),
                  rs.getString("traceparent"),
                  rs.getString("type"),
                  rs.getBoolean("constrained")));
        }
      }
    }
    return rows;
  }

  /** Applies guarded changes; returns the ids whose guard held (the others changed nothing). */
  public Set<UUID> applyChanges(Connection c, List<JobChange> changes) throws SQLException {
    Set<UUID> applied = new HashSet<>();
    if (changes.isEmpty()) {
      return applied;
    }
    try (PreparedStatement ps = c.prepareStatement(APPLY_CHANGES)) {
      new UnnestBinder(c, ps)
          .uuids(changes, JobChange::id)
          .texts(changes, ch -> ch.expectedStatus().name())
          .ints(changes, JobChange::expectedAttempts)
          .longs(changes, JobChange::expectedRun)
          .texts(changes, ch -> ch.status().name())
          .ints(changes, JobChange::attempts)
          .timestamps(changes, JobChange::nextRunAt)
          .texts(changes, JobChange::resultJson)
          .texts(changes, JobChange::lastError)
          .texts(changes, JobChange::workerId)
          .timestamps(changes, JobChange::startedAt)
          .timestamps(changes, JobChange::finishedAt);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          applied.add(rs.getObject("id", UUID.class));
        }
      }
    }
    return applied;
  }

  /** Inserts attempt rows; finishing an attempt fills in its outcome once. */
  public void upsertAttempts(Connection c, List<AttemptRow> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(UPSERT_ATTEMPTS)) {
      new UnnestBinder(c, ps)
          .uuids(rows, AttemptRow::jobId)
          .ints(rows, AttemptRow::attempt)
          .texts(rows, AttemptRow::workerId)
          .timestamps(rows, AttemptRow::startedAt)
          .timestamps(rows, AttemptRow::finishedAt)
          .texts(rows, AttemptRow::outcome)
          .texts(rows, AttemptRow::error);
      ps.executeUpdate();
    }
  }

  /** The parent of each given job that has one (a rare-path lookup, not for the hot path). */
  public Map<UUID, UUID> parentsOf(Connection c, Collection<UUID> ids) throws SQLException {
    Map<UUID, UUID> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(PARENTS_OF)) {
      new UnnestBinder(c, ps).uuidArray(ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getObject("id", UUID.class), rs.getObject("parent_id", UUID.class));
        }
      }
    }
    return out;
  }

  /** Wakes every dispatcher listening on {@link #CHANNEL}; delivered at commit. */
  public void notifyDue(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(NOTIFY_DUE)) {
      ps.setString(1, CHANNEL);
      ps.execute();
    }
  }
}
