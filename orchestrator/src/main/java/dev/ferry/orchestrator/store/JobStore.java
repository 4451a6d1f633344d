package dev.ferry.orchestrator.store;

import dev.ferry.core.json.BackoffCodec;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.JobStatus;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The orchestrator's SQL. Every method works on a whole batch with one statement (arrays and
 * {@code unnest}), never one round trip per job, and runs in the caller's transaction.
 * Stateless and thread-safe.
 */
public final class JobStore {
  /** Channel notified when jobs become due, so dispatchers wake at once. */
  public static final String CHANNEL = "ferry_jobs";

  /**
   * Advisory lock key held shared by every intake transaction that puts jobs straight on the
   * work topic. An outcome can only exist after its work item was acknowledged, which happens
   * inside such a transaction; an applier that meets an unknown job takes this lock exclusively
   * (waiting for the in-flight intake transactions to end) and looks again.
   */
  public static final long INTAKE_LOCK = 0x4665727279_01L;

  /**
   * Inserts jobs. With {@code queueDue}, a plain job that is due now and whose dependency's
   * breaker is not OPEN is inserted {@code QUEUED} with its first attempt (what the dispatcher's
   * claim would do), and the transaction holds {@link #INTAKE_LOCK} shared.
   */
  private static final String INSERT_JOBS =
      """
      WITH gate AS MATERIALIZED (SELECT CASE WHEN ?::boolean THEN pg_advisory_xact_lock_shared(?) END),
           -- Submissions with children whose row exists already (an index lookup per tree).
           seen AS MATERIALIZED (SELECT id FROM ferry.jobs WHERE id = ANY(?::uuid[]))
      INSERT INTO ferry.jobs (id, parent_id, type, dependency, payload, status, attempts, run_seq,
                              max_attempts, next_run_at, timeout_ms, backoff, key, failure_policy,
                              children_total, traceparent)
      SELECT v.id, v.parent_id, v.type, v.dependency, v.payload::jsonb, v.status,
             v.first, v.first, v.max_attempts, coalesce(v.next_run_at, now()), v.timeout_ms,
             v.backoff::jsonb, v.key, v.failure_policy, v.children_total, v.traceparent
      FROM (
        SELECT u.*, CASE WHEN q.queued THEN 'QUEUED' ELSE u.initial END AS status,
               CASE WHEN q.queued THEN 1 ELSE 0 END AS first
        FROM gate, unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[],
                          ?::int[], ?::timestamptz[], ?::int[], ?::text[], ?::text[], ?::text[],
                          ?::int[], ?::text[], ?::uuid[])
             AS u(id, parent_id, type, dependency, payload, initial, max_attempts, next_run_at,
                  timeout_ms, backoff, key, failure_policy, children_total, traceparent, root)
        CROSS JOIN LATERAL (
          SELECT ?::boolean AND u.initial = 'PENDING'
                 AND (u.next_run_at IS NULL OR u.next_run_at <= now())
                 AND NOT EXISTS (
                   SELECT 1 FROM ferry.circuit_breakers b
                   WHERE b.dependency = u.dependency AND b.state = 'OPEN'
                     AND (b.retry_at IS NULL OR b.retry_at > now())) AS queued) q
        -- A submission seen before (its row predates this statement) adds no children.
        WHERE u.root IS NULL OR u.root = u.id OR u.root NOT IN (SELECT id FROM seen)
      ) v
      ON CONFLICT (id) DO NOTHING
      RETURNING id, status
      """;

  private static final String INSERT_REJECTED =
      """
      INSERT INTO ferry.rejected_submissions (topic, partition, "offset", reason, raw)
      SELECT * FROM unnest(?::text[], ?::int[], ?::bigint[], ?::text[], ?::text[])
      ON CONFLICT (topic, partition, "offset") DO NOTHING
      """;

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
      RETURNING j.id, j.attempts, j.run_seq, j.type, j.payload::text, j.dependency, j.timeout_ms,
                j.crashes, j.traceparent
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
         WHERE state = 'OPEN' AND retry_at > now()))
      """;

  private static final String LOCK_JOBS =
      """
      SELECT id, parent_id, status, attempts, run_seq, max_attempts, backoff::text, traceparent,
             type
      FROM ferry.jobs WHERE id = ANY(?::uuid[]) ORDER BY id FOR UPDATE
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

  private static final String DELETE_ATTEMPTS =
      """
      DELETE FROM ferry.job_attempts a
      USING unnest(?::uuid[], ?::int[]) AS u(job_id, attempt)
      WHERE a.job_id = u.job_id AND a.attempt = u.attempt
      """;

  /** Why a parent none of whose children could be inserted ends FAILED. */
  public static final String NO_CHILDREN_INSERTED =
      "none of its children could be created: their ids belong to existing jobs";

  private static final String FIX_CHILDREN_TOTAL =
      """
      UPDATE ferry.jobs j
      SET children_total = u.n,
          status = CASE WHEN u.n = 0 THEN 'FAILED' ELSE j.status END,
          last_error = CASE WHEN u.n = 0 THEN ? ELSE j.last_error END,
          finished_at = CASE WHEN u.n = 0 THEN now() ELSE j.finished_at END,
          updated_at = now()
      FROM unnest(?::uuid[], ?::int[]) AS u(id, n)
      WHERE j.id = u.id AND j.status = 'WAITING_CHILDREN'
      """;

  /**
   * Makes each newly inserted parent's {@code children_total} the number of its children rows
   * actually inserted: a child whose explicit id belongs to an existing job is skipped by the
   * insert and would never report to this parent. A parent left with no child ends FAILED
   * ({@link #NO_CHILDREN_INSERTED}). Returns those parents (id → their own parent id or null),
   * for fan-in. No statement when every count is right (the usual case).
   */
  public Map<UUID, UUID> fixChildrenTotals(Connection c, List<NewJob> jobs, Set<UUID> inserted)
      throws SQLException {
    Map<UUID, Integer> actual = null;
    for (NewJob j : jobs) {
      if (j.parentId() != null && inserted.contains(j.id())) {
        if (actual == null) {
          actual = new HashMap<>();
        }
        actual.merge(j.parentId(), 1, Integer::sum);
      }
    }
    List<UUID> ids = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    Map<UUID, UUID> empty = new HashMap<>();
    for (NewJob j : jobs) {
      if (j.childrenTotal() > 0 && inserted.contains(j.id())) {
        int n = actual == null ? 0 : actual.getOrDefault(j.id(), 0);
        if (n != j.childrenTotal()) {
          ids.add(j.id());
          counts.add(n);
          if (n == 0) {
            empty.put(j.id(), j.parentId());
          }
        }
      }
    }
    if (!ids.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(FIX_CHILDREN_TOTAL)) {
        ps.setString(1, NO_CHILDREN_INSERTED);
        ps.setArray(2, c.createArrayOf("uuid", ids.toArray()));
        ps.setArray(3, c.createArrayOf("int4", counts.toArray()));
        ps.executeUpdate();
      }
    }
    return empty;
  }

  /** The parent of each given job that has one (a rare-path lookup, not for the hot path). */
  public Map<UUID, UUID> parentsOf(Connection c, Collection<UUID> ids) throws SQLException {
    Map<UUID, UUID> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT id, parent_id FROM ferry.jobs WHERE id = ANY(?::uuid[]) AND parent_id IS NOT NULL")) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class));
        }
      }
    }
    return out;
  }

  /** Inserts new jobs, skipping ids that exist already; returns the ids actually inserted. */
  public Set<UUID> insertJobs(Connection c, List<NewJob> jobs) throws SQLException {
    return insertJobs(c, jobs, false).keySet();
  }

  /**
   * Inserts new jobs, skipping ids that exist already; returns the status each inserted job got.
   * With {@code queueDue}, jobs that are due now are inserted {@code QUEUED} with attempt and
   * run 1 (see {@link #INSERT_JOBS}): the caller must put them on the work topic before it
   * commits.
   */
  public Map<UUID, JobStatus> insertJobs(Connection c, List<NewJob> jobs, boolean queueDue)
      throws SQLException {
    Map<UUID, JobStatus> inserted = new HashMap<>();
    if (jobs.isEmpty()) {
      return inserted;
    }
    int n = jobs.size();
    UUID[] id = new UUID[n];
    UUID[] parent = new UUID[n];
    String[] type = new String[n];
    String[] dep = new String[n];
    String[] payload = new String[n];
    String[] status = new String[n];
    Integer[] max = new Integer[n];
    Timestamp[] runAt = new Timestamp[n];
    Integer[] timeout = new Integer[n];
    String[] backoff = new String[n];
    String[] key = new String[n];
    String[] policy = new String[n];
    Integer[] childrenTotal = new Integer[n];
    String[] trace = new String[n];
    UUID[] root = new UUID[n];
    Set<UUID> treeRoots = new HashSet<>();
    for (int i = 0; i < n; i++) {
      NewJob j = jobs.get(i);
      root[i] = j.rootId();
      if (j.rootId() != null && !j.rootId().equals(j.id())) {
        treeRoots.add(j.rootId());
      }
      trace[i] = j.traceparent();
      childrenTotal[i] = j.childrenTotal();
      id[i] = j.id();
      parent[i] = j.parentId();
      type[i] = j.type();
      dep[i] = j.dependency();
      payload[i] = j.payloadJson();
      status[i] = j.status();
      max[i] = j.maxAttempts();
      runAt[i] = ts(j.nextRunAt());
      timeout[i] = j.timeoutMs();
      backoff[i] = j.backoffJson();
      key[i] = j.key();
      policy[i] = j.failurePolicy();
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_JOBS)) {
      int p = 1;
      ps.setBoolean(p++, queueDue);
      ps.setLong(p++, INTAKE_LOCK);
      ps.setArray(p++, c.createArrayOf("uuid", treeRoots.toArray()));
      ps.setArray(p++, c.createArrayOf("uuid", id));
      ps.setArray(p++, c.createArrayOf("uuid", parent));
      ps.setArray(p++, c.createArrayOf("text", type));
      ps.setArray(p++, c.createArrayOf("text", dep));
      ps.setArray(p++, c.createArrayOf("text", payload));
      ps.setArray(p++, c.createArrayOf("text", status));
      ps.setArray(p++, c.createArrayOf("int4", max));
      ps.setArray(p++, c.createArrayOf("timestamptz", runAt));
      ps.setArray(p++, c.createArrayOf("int4", timeout));
      ps.setArray(p++, c.createArrayOf("text", backoff));
      ps.setArray(p++, c.createArrayOf("text", key));
      ps.setArray(p++, c.createArrayOf("text", policy));
      ps.setArray(p++, c.createArrayOf("int4", childrenTotal));
      ps.setArray(p++, c.createArrayOf("text", trace));
      ps.setArray(p++, c.createArrayOf("uuid", root));
      ps.setBoolean(p, queueDue);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.put(rs.getObject(1, UUID.class), JobStatus.valueOf(rs.getString(2)));
        }
      }
    }
    return inserted;
  }

  /**
   * Waits until every intake transaction that holds {@link #INTAKE_LOCK} (and so may be about to
   * commit jobs whose work items are out already) has ended. Taken and released at once: new
   * intake transactions wait only for that moment.
   */
  public void awaitInFlightIntake(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, INTAKE_LOCK);
      ps.execute();
    } finally {
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        ps.setLong(1, INTAKE_LOCK);
        ps.execute();
      }
    }
  }

  /** Records rejected submissions; a record seen twice (redelivery) is stored once. */
  public void insertRejections(Connection c, List<Rejection> rejections) throws SQLException {
    if (rejections.isEmpty()) {
      return;
    }
    int n = rejections.size();
    String[] topic = new String[n];
    Integer[] partition = new Integer[n];
    Long[] offset = new Long[n];
    String[] reason = new String[n];
    String[] raw = new String[n];
    for (int i = 0; i < n; i++) {
      Rejection r = rejections.get(i);
      topic[i] = r.topic();
      partition[i] = r.partition();
      offset[i] = r.offset();
      reason[i] = r.reason();
      raw[i] = r.raw();
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_REJECTED)) {
      ps.setArray(1, c.createArrayOf("text", topic));
      ps.setArray(2, c.createArrayOf("int4", partition));
      ps.setArray(3, c.createArrayOf("int8", offset));
      ps.setArray(4, c.createArrayOf("text", reason));
      ps.setArray(5, c.createArrayOf("text", raw));
      ps.executeUpdate();
    }
  }

  /** Wakes every dispatcher listening on {@link #CHANNEL}; delivered at commit. */
  public void notifyDue(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
      ps.setString(1, CHANNEL);
      ps.execute();
    }
  }

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
                  rs.getObject(1, UUID.class), rs.getInt(2), rs.getLong(3), rs.getString(4),
                  rs.getString(5), rs.getString(6), rs.getInt(7), rs.getInt(8),
                  rs.getString(9)));
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
      Timestamp t = rs.getTimestamp(1);
      return t == null ? null : t.toInstant();
    }
  }

  /** Locks the given jobs (in id order, so concurrent appliers cannot deadlock). */
  public Map<UUID, JobRow> lockJobs(Connection c, Collection<UUID> ids) throws SQLException {
    Map<UUID, JobRow> rows = new HashMap<>();
    if (ids.isEmpty()) {
      return rows;
    }
    try (PreparedStatement ps = c.prepareStatement(LOCK_JOBS)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray(UUID[]::new)));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          rows.put(
              id,
              new JobRow(
                  id,
                  rs.getObject(2, UUID.class),
                  JobStatus.valueOf(rs.getString(3)),
                  rs.getInt(4),
                  rs.getLong(5),
                  rs.getInt(6),
                  BackoffCodec.decode(FerryJson.parse(rs.getString(7))),
                  rs.getString(8),
                  rs.getString(9)));
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
    int n = changes.size();
    UUID[] id = new UUID[n];
    String[] expStatus = new String[n];
    Integer[] expAttempts = new Integer[n];
    Long[] expRun = new Long[n];
    String[] status = new String[n];
    Integer[] attempts = new Integer[n];
    Timestamp[] next = new Timestamp[n];
    String[] result = new String[n];
    String[] error = new String[n];
    String[] worker = new String[n];
    Timestamp[] started = new Timestamp[n];
    Timestamp[] finished = new Timestamp[n];
    for (int i = 0; i < n; i++) {
      JobChange ch = changes.get(i);
      id[i] = ch.id();
      expStatus[i] = ch.expectedStatus().name();
      expAttempts[i] = ch.expectedAttempts();
      expRun[i] = ch.expectedRun();
      status[i] = ch.status().name();
      attempts[i] = ch.attempts();
      next[i] = ts(ch.nextRunAt());
      result[i] = ch.resultJson();
      error[i] = ch.lastError();
      worker[i] = ch.workerId();
      started[i] = ts(ch.startedAt());
      finished[i] = ts(ch.finishedAt());
    }
    try (PreparedStatement ps = c.prepareStatement(APPLY_CHANGES)) {
      int p = 1;
      ps.setArray(p++, c.createArrayOf("uuid", id));
      ps.setArray(p++, c.createArrayOf("text", expStatus));
      ps.setArray(p++, c.createArrayOf("int4", expAttempts));
      ps.setArray(p++, c.createArrayOf("int8", expRun));
      ps.setArray(p++, c.createArrayOf("text", status));
      ps.setArray(p++, c.createArrayOf("int4", attempts));
      ps.setArray(p++, c.createArrayOf("timestamptz", next));
      ps.setArray(p++, c.createArrayOf("text", result));
      ps.setArray(p++, c.createArrayOf("text", error));
      ps.setArray(p++, c.createArrayOf("text", worker));
      ps.setArray(p++, c.createArrayOf("timestamptz", started));
      ps.setArray(p, c.createArrayOf("timestamptz", finished));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          applied.add(rs.getObject(1, UUID.class));
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
    int n = rows.size();
    UUID[] id = new UUID[n];
    Integer[] attempt = new Integer[n];
    String[] worker = new String[n];
    Timestamp[] started = new Timestamp[n];
    Timestamp[] finished = new Timestamp[n];
    String[] outcome = new String[n];
    String[] error = new String[n];
    for (int i = 0; i < n; i++) {
      AttemptRow r = rows.get(i);
      id[i] = r.jobId();
      attempt[i] = r.attempt();
      worker[i] = r.workerId();
      started[i] = ts(r.startedAt());
      finished[i] = ts(r.finishedAt());
      outcome[i] = r.outcome();
      error[i] = r.error();
    }
    try (PreparedStatement ps = c.prepareStatement(UPSERT_ATTEMPTS)) {
      ps.setArray(1, c.createArrayOf("uuid", id));
      ps.setArray(2, c.createArrayOf("int4", attempt));
      ps.setArray(3, c.createArrayOf("text", worker));
      ps.setArray(4, c.createArrayOf("timestamptz", started));
      ps.setArray(5, c.createArrayOf("timestamptz", finished));
      ps.setArray(6, c.createArrayOf("text", outcome));
      ps.setArray(7, c.createArrayOf("text", error));
      ps.executeUpdate();
    }
  }

  /** Removes attempt rows of attempts that were given back (deferred). */
  public void deleteAttempts(Connection c, List<UUID> jobIds, List<Integer> attempts)
      throws SQLException {
    if (jobIds.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(DELETE_ATTEMPTS)) {
      Array ids = c.createArrayOf("uuid", jobIds.toArray());
      ps.setArray(1, ids);
      ps.setArray(2, c.createArrayOf("int4", attempts.toArray()));
      ps.executeUpdate();
    }
  }

  private static Timestamp ts(Instant i) {
    return i == null ? null : Timestamp.from(i);
  }
}
