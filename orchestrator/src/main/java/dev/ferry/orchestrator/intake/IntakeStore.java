package dev.ferry.orchestrator.intake;

import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.store.NewJob;
import dev.ferry.orchestrator.store.Rejection;
import dev.ferry.orchestrator.store.UnnestBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The SQL that creates jobs: intake's batch insert of submitted trees (with its own direct dispatch
 * of due jobs), the same insert for children a handler spawned, the fix-up of parents whose
 * children could not all be inserted, rejected submissions, and the intake lock an applier waits
 * on. Every method works on a whole batch with one statement and runs in the caller's transaction.
 * Stateless and thread-safe.
 */
public final class IntakeStore {
  /**
   * Advisory lock key held shared by every intake transaction that puts jobs straight on the work
   * topic. An outcome can only exist after its work item was acknowledged, which happens inside
   * such a transaction; an applier that meets an unknown job takes this lock exclusively (waiting
   * for the in-flight intake transactions to end) and looks again.
   */
  public static final long INTAKE_LOCK = 0x4665727279_01L;

  /** Why a parent none of whose children could be inserted ends FAILED. */
  public static final String NO_CHILDREN_INSERTED =
      "none of its children could be created: their ids belong to existing jobs";

  /**
   * Inserts jobs. With {@code queueDue}, a plain job that is due now and whose dependency's breaker
   * is not OPEN is inserted {@code QUEUED} with its first attempt (what the dispatcher's claim
   * would do), and the transaction holds {@link #INTAKE_LOCK} shared.
   */
  private static final String INSERT_JOBS =
      """
      WITH gate AS MATERIALIZED (SELECT CASE WHEN ?::boolean THEN pg_advisory_xact_lock_shared(?) END),
           -- Submissions with children whose row exists already (an index lookup per tree).
           seen AS MATERIALIZED (SELECT id FROM ferry.jobs WHERE id = ANY(?::uuid[]))
      INSERT INTO ferry.jobs (id, parent_id, type, dependency, payload, status, attempts, run_seq,
                              max_attempts, next_run_at, timeout_ms, backoff, key, failure_policy,
                              children_total, traceparent, unique_key, unique_for_ms,
                              schedule_name, priority, concurrency_key, concurrency_limit,
                              concurrency_seq)
      SELECT v.id, v.parent_id, v.type, v.dependency, v.payload::jsonb, v.status,
             v.first, v.first, v.max_attempts, coalesce(v.next_run_at, now()), v.timeout_ms,
             v.backoff::jsonb, v.key, v.failure_policy, v.children_total, v.traceparent,
             v.unique_key, v.unique_for_ms, v.schedule_name, v.priority, v.concurrency_key,
             v.concurrency_limit,
             -- Submission order within a key: (created_at, position in the batch).
             CASE WHEN v.concurrency_key IS NOT NULL THEN v.ord END
      FROM (
        SELECT u.*, CASE WHEN q.queued THEN 'QUEUED' ELSE u.initial END AS status,
               CASE WHEN q.queued THEN 1 ELSE 0 END AS first
        FROM gate, unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[],
                          ?::int[], ?::timestamptz[], ?::int[], ?::text[], ?::text[], ?::text[],
                          ?::int[], ?::text[], ?::uuid[], ?::text[], ?::int8[], ?::text[],
                          ?::int[], ?::text[], ?::int[])
             WITH ORDINALITY
             AS u(id, parent_id, type, dependency, payload, initial, max_attempts, next_run_at,
                  timeout_ms, backoff, key, failure_policy, children_total, traceparent, root,
                  unique_key, unique_for_ms, schedule_name, priority, concurrency_key,
                  concurrency_limit, ord)
        CROSS JOIN LATERAL (
          -- Flow control: keyed jobs, low priorities (4, 5) and jobs of a dependency with limits
          -- wait for the dispatcher, which decides with the limits' state.
          SELECT ?::boolean AND u.initial = 'PENDING'
                 AND (u.next_run_at IS NULL OR u.next_run_at <= now())
                 AND u.concurrency_key IS NULL AND u.priority <= 3
                 AND NOT EXISTS (
                   SELECT 1 FROM ferry.dependency_limits l WHERE l.dependency = u.dependency)
                 AND NOT EXISTS (
                   SELECT 1 FROM ferry.circuit_breakers b
                   WHERE b.dependency = u.dependency AND b.state = 'OPEN'
                     AND (b.retry_at IS NULL OR b.retry_at > now())) AS queued) q
        -- A submission seen before (its row predates this statement) adds no children.
        WHERE u.root IS NULL OR u.root = u.id OR u.root NOT IN (SELECT id FROM seen)
      ) v
      -- Any unique index: the id (a submission seen before), and jobs_unique_active_idx (a
      -- unique key held by an unfinished job).
      ON CONFLICT DO NOTHING
      RETURNING id, status
      """;

  /**
   * Takes {@code unique.forMs} keys: a key is free when it has no row or its row expired. The row
   * lock serialises concurrent takers; the loser sees the winner's row and takes nothing.
   */
  private static final String TAKE_KEYS =
      """
      INSERT INTO ferry.unique_keys AS k (key, job_id, expires_at)
      SELECT u.key, u.job_id, now() + u.for_ms * interval '1 millisecond'
      FROM unnest(?::text[], ?::uuid[], ?::int8[]) AS u(key, job_id, for_ms)
      ORDER BY u.key
      ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at
      WHERE k.expires_at <= now()
      RETURNING key
      """;

  private static final String INSERT_REJECTED =
      """
      INSERT INTO ferry.rejected_submissions (topic, partition, "offset", reason, raw)
      SELECT * FROM unnest(?::text[], ?::int[], ?::bigint[], ?::text[], ?::text[])
      ON CONFLICT (topic, partition, "offset") DO NOTHING
      """;

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

  private static final String LOCK_INTAKE = "SELECT pg_advisory_lock(?)";

  private static final String UNLOCK_INTAKE = "SELECT pg_advisory_unlock(?)";

  /** A parent whose {@code children_total} becomes the number of children actually inserted. */
  private record ChildrenCount(UUID id, int n) {}

  /** Inserts new jobs, skipping ids that exist already; returns the ids actually inserted. */
  public Set<UUID> insertJobs(Connection c, List<NewJob> jobs) throws SQLException {
    return insertJobs(c, jobs, false).keySet();
  }

  /**
   * Inserts new jobs, skipping ids that exist already; returns the status each inserted job got.
   * With {@code queueDue}, jobs that are due now are inserted {@code QUEUED} with attempt and run 1
   * (see {@link #INSERT_JOBS}): the caller must put them on the work topic before it commits.
   */
  public Map<UUID, JobStatus> insertJobs(Connection c, List<NewJob> jobs, boolean queueDue)
      throws SQLException {
    Map<UUID, JobStatus> inserted = new HashMap<>();
    jobs = withTakenKeys(c, jobs);
    if (jobs.isEmpty()) {
      return inserted;
    }
    Set<UUID> treeRoots = new HashSet<>();
    for (NewJob j : jobs) {
      if (j.rootId() != null && !j.rootId().equals(j.id())) {
        treeRoots.add(j.rootId());
      }
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_JOBS)) {
      new UnnestBinder(c, ps)
          .bool(queueDue)
          .int8(INTAKE_LOCK)
          .uuidArray(treeRoots)
          .uuids(jobs, NewJob::id)
          .uuids(jobs, NewJob::parentId)
          .texts(jobs, NewJob::type)
          .texts(jobs, NewJob::dependency)
          .texts(jobs, NewJob::payloadJson)
          .texts(jobs, NewJob::status)
          .ints(jobs, NewJob::maxAttempts)
          .timestamps(jobs, NewJob::nextRunAt)
          .ints(jobs, NewJob::timeoutMs)
          .texts(jobs, NewJob::backoffJson)
          .texts(jobs, NewJob::key)
          .texts(jobs, NewJob::failurePolicy)
          .ints(jobs, NewJob::childrenTotal)
          .texts(jobs, NewJob::traceparent)
          .uuids(jobs, NewJob::rootId)
          .texts(jobs, NewJob::uniqueKey)
          .longs(jobs, NewJob::uniqueForMs)
          .texts(jobs, NewJob::scheduleName)
          .ints(jobs, NewJob::priority)
          .texts(jobs, NewJob::concurrencyKey)
          .ints(jobs, NewJob::concurrencyLimit)
          .bool(queueDue);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.put(rs.getObject("id", UUID.class), JobStatus.valueOf(rs.getString("status")));
        }
      }
    }
    return inserted;
  }

  /** A {@code unique.forMs} key to take for a top-level job. */
  private record KeyClaim(String key, UUID jobId, long forMs) {}

  /**
   * The jobs without the trees whose {@code unique.forMs} key is taken (by a job created less than
   * {@code forMs} ago, or by an earlier job of this batch).
   */
  private static List<NewJob> withTakenKeys(Connection c, List<NewJob> jobs) throws SQLException {
    Map<String, KeyClaim> claims = new java.util.LinkedHashMap<>();
    Set<UUID> refused = new HashSet<>();
    for (NewJob j : jobs) {
      if (j.uniqueForMs() != null && j.parentId() == null) {
        if (claims.putIfAbsent(j.uniqueKey(), new KeyClaim(j.uniqueKey(), j.id(), j.uniqueForMs()))
            != null) {
          refused.add(j.id());
        }
      }
    }
    if (claims.isEmpty()) {
      return jobs;
    }
    List<KeyClaim> list = new ArrayList<>(claims.values());
    Set<String> taken = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(TAKE_KEYS)) {
      new UnnestBinder(c, ps)
          .texts(list, KeyClaim::key)
          .uuids(list, KeyClaim::jobId)
          .longs(list, KeyClaim::forMs);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          taken.add(rs.getString(1));
        }
      }
    }
    for (KeyClaim k : list) {
      if (!taken.contains(k.key())) {
        refused.add(k.jobId());
      }
    }
    if (refused.isEmpty()) {
      return jobs;
    }
    List<NewJob> kept = new ArrayList<>(jobs.size());
    for (NewJob j : jobs) {
      UUID root = j.rootId() != null ? j.rootId() : j.id();
      if (!refused.contains(j.id()) && !refused.contains(root)) {
        kept.add(j);
      }
    }
    return kept;
  }

  /**
   * Makes each newly inserted parent's {@code children_total} the number of its children rows
   * actually inserted: a child whose explicit id belongs to an existing job is skipped by the
   * insert and would never report to this parent. A parent left with no child ends FAILED ({@link
   * #NO_CHILDREN_INSERTED}). Returns those parents (id → their own parent id or null), for fan-in.
   * No statement when every count is right (the usual case).
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
    List<ChildrenCount> wrong = new ArrayList<>();
    Map<UUID, UUID> empty = new HashMap<>();
    for (NewJob j : jobs) {
      if (j.childrenTotal() > 0 && inserted.contains(j.id())) {
        int n = actual == null ? 0 : actual.getOrDefault(j.id(), 0);
        if (n != j.childrenTotal()) {
          wrong.add(new ChildrenCount(j.id(), n));
          if (n == 0) {
            empty.put(j.id(), j.parentId());
          }
        }
      }
    }
    if (!wrong.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(FIX_CHILDREN_TOTAL)) {
        new UnnestBinder(c, ps)
            .text(NO_CHILDREN_INSERTED)
            .uuids(wrong, ChildrenCount::id)
            .ints(wrong, ChildrenCount::n);
        ps.executeUpdate();
      }
    }
    return empty;
  }

  /** Records rejected submissions; a record seen twice (redelivery) is stored once. */
  public void insertRejections(Connection c, List<Rejection> rejections) throws SQLException {
    if (rejections.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_REJECTED)) {
      new UnnestBinder(c, ps)
          .texts(rejections, Rejection::topic)
          .ints(rejections, Rejection::partition)
          .longs(rejections, Rejection::offset)
          .texts(rejections, Rejection::reason)
          .texts(rejections, Rejection::raw);
      ps.executeUpdate();
    }
  }

  /**
   * Waits until every intake transaction that holds {@link #INTAKE_LOCK} (and so may be about to
   * commit jobs whose work items are out already) has ended. Taken and released at once: new intake
   * transactions wait only for that moment.
   */
  public void awaitInFlightIntake(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK_INTAKE)) {
      ps.setLong(1, INTAKE_LOCK);
      ps.execute();
    } finally {
      try (PreparedStatement ps = c.prepareStatement(UNLOCK_INTAKE)) {
        ps.setLong(1, INTAKE_LOCK);
        ps.execute();
      }
    }
  }
}
