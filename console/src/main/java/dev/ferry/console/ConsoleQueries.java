package dev.ferry.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.console.Model.Attempt;
import dev.ferry.console.Model.Breaker;
import dev.ferry.console.Model.Children;
import dev.ferry.console.Model.FlowControl;
import dev.ferry.console.Model.JobDetail;
import dev.ferry.console.Model.JobPage;
import dev.ferry.console.Model.JobRow;
import dev.ferry.console.Model.Minute;
import dev.ferry.console.Model.Overview;
import dev.ferry.console.Model.Rejected;
import dev.ferry.console.Model.RejectedPage;
import dev.ferry.console.Model.Stats;
import dev.ferry.console.Model.TypeActivity;
import dev.ferry.console.Model.Worker;
import dev.ferry.orchestrator.admin.JobAdmin;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;

/** What the console reads from PostgreSQL: every query bounded by an index and a limit. */
final class ConsoleQueries {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Rows of one page of the jobs list. */
  static final int PAGE = 50;

  /** Characters of a rejected submission shown in the list. */
  static final int RAW_PREVIEW = 300;

  /**
   * Newest first, keyset on (created_at, id) (index jobs_created_idx); every filter optional. Why a
   * job waits ({@code ferry.waiting_for}: a few index lookups per job) is asked in the outer query,
   * once per row of the page: the inner query is limited first, then each of its rows is found
   * again by primary key (EXPLAIN: a nested loop over the Limit, the function in its output, no
   * second sort). In one query, whether the function waits until after the sort is up to the
   * planner, and a sorted plan (a status filter read through its index) would carry every matching
   * row whole, payload included, through the sort.
   */
  private static final String JOBS =
      """
      SELECT p.id, p.status, p.type, p.dependency, p.attempts, p.max_attempts, p.created_at,
             p.finished_at, p.last_error, ferry.waiting_for(j) AS waiting_for
      FROM (
        SELECT id, status, type, dependency, attempts, max_attempts, created_at, finished_at,
               last_error
        FROM ferry.jobs
        WHERE (?::text IS NULL OR status = ?)
          AND (?::text IS NULL OR type = ?)
          AND (?::text IS NULL OR dependency = ?)
          AND (?::uuid IS NULL OR parent_id = ?)
          AND (?::text IS NULL OR key = ?)
          AND (?::text IS NULL OR last_error ILIKE '%' || ? || '%' ESCAPE '\\')
          AND (?::timestamptz IS NULL OR created_at >= ?)
          AND (?::timestamptz IS NULL OR created_at < ?)
          AND (?::timestamptz IS NULL OR (created_at, id) < (?, ?))
        ORDER BY created_at DESC, id DESC
        LIMIT ?
      ) p
      JOIN ferry.jobs j ON j.id = p.id
      ORDER BY p.created_at DESC, p.id DESC
      """;

  private static final String JOB =
      """
      SELECT id, parent_id, status, type, dependency, key, priority, concurrency_key,
             concurrency_limit, attempts, max_attempts, created_at, started_at, finished_at,
             next_run_at, worker_id, last_error, traceparent, payload::text AS payload,
             result::text AS result, children_total, ferry.waiting_for(j) AS waiting_for
      FROM ferry.jobs j WHERE id = ?
      """;

  private static final String ATTEMPTS =
      """
      SELECT attempt, worker_id, started_at, finished_at, outcome, error
      FROM ferry.job_attempts WHERE job_id = ? ORDER BY attempt
      """;

  private static final String CHILDREN =
      """
      SELECT count(*) AS total,
             count(*) FILTER (WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) AS done,
             count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED')) AS failed
      FROM ferry.jobs WHERE parent_id = ?
      """;

  /** One pass over the (status, type) index. */
  private static final String BY_TYPE_AND_STATUS =
      "SELECT type, status, count(*) AS n FROM ferry.jobs GROUP BY type, status";

  /** The live statuses only: few rows, found through the (status, type) index. */
  private static final String LIVE_BY_TYPE_AND_STATUS =
      """
      SELECT type, status, count(*) AS n FROM ferry.jobs
      WHERE status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRY_WAIT', 'WAITING_CHILDREN')
      GROUP BY type, status
      """;

  /** The planner's row estimate of ferry.jobs (kept by autovacuum / ANALYZE). */
  private static final String ESTIMATED_ROWS =
      "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'ferry.jobs'::regclass";

  /** How common each status is, from the table's statistics. */
  private static final String STATUS_FREQUENCIES =
      """
      SELECT unnest(most_common_vals::text::text[]) AS status,
             unnest(most_common_freqs) AS freq
      FROM pg_stats WHERE schemaname = 'ferry' AND tablename = 'jobs' AND attname = 'status'
      """;

  /**
   * Above this many jobs (the planner's estimate) the counts of finished jobs are estimated from
   * the table's statistics instead of counted: counting reads every job.
   */
  static final long EXACT_COUNT_MAX_ROWS = 1_000_000;

  /** How long an overview is reused: any number of open consoles cost one query a second. */
  static final Duration OVERVIEW_TTL = Duration.ofSeconds(1);

  private static final String ACTIVITY =
      """
      SELECT minute, type, succeeded, failed, retried FROM ferry.job_activity
      WHERE minute >= ? ORDER BY minute
      """;

  private static final String QUEUE_LAG =
      """
      SELECT min(next_run_at) AS oldest FROM ferry.jobs
      WHERE status IN ('PENDING', 'RETRY_WAIT') AND next_run_at <= now()
      """;

  private static final String BREAKERS =
      """
      SELECT dependency, state, failure_rate, "window", window_calls, trips, state_since,
             retry_at, forced, last_reason, generation
      FROM ferry.circuit_breakers ORDER BY state = 'CLOSED', dependency
      """;

  private static final String WORKERS =
      """
      SELECT id, host, started_at, heartbeat_at, concurrency, in_flight, stopped_at,
             (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint AS age_ms
      FROM ferry.workers
      ORDER BY stopped_at IS NOT NULL, heartbeat_at DESC
      LIMIT 500
      """;

  private static final String REJECTED =
      """
      SELECT id, topic, partition, "offset", reason, left(raw, ?) AS preview,
             length(raw) AS raw_length, received_at
      FROM ferry.rejected_submissions
      WHERE (?::bigint IS NULL OR id < ?)
      ORDER BY id DESC LIMIT ?
      """;

  private static final String REJECTED_COUNTS =
      """
      SELECT (SELECT count(*) FROM ferry.rejected_submissions) AS total,
             (SELECT count(*) FROM ferry.rejected_submissions
              WHERE received_at >= now() - interval '1 hour') AS last_hour
      """;

  private final DataSource db;
  private final Duration workerDeadAfter;
  private final Clock clock;

  private final long exactCountMaxRows;
  private Overview lastOverview;

  ConsoleQueries(DataSource db, Duration workerDeadAfter, Clock clock) {
    this(db, workerDeadAfter, clock, EXACT_COUNT_MAX_ROWS);
  }

  ConsoleQueries(DataSource db, Duration workerDeadAfter, Clock clock, long exactCountMaxRows) {
    this.exactCountMaxRows = exactCountMaxRows;
    this.db = db;
    this.workerDeadAfter = workerDeadAfter;
    this.clock = clock;
  }

  JobPage jobs(JobFilter f, int limit) throws SQLException {
    List<JobRow> jobs = new ArrayList<>();
    boolean more = false;
    try (Connection c = db.getConnection();
        PreparedStatement ps = c.prepareStatement(JOBS)) {
      int i = 1;
      i = twice(ps, i, f.status());
      i = twice(ps, i, f.type());
      i = twice(ps, i, f.dependency());
      ps.setObject(i++, f.parent(), Types.OTHER);
      ps.setObject(i++, f.parent(), Types.OTHER);
      i = twice(ps, i, f.key());
      i = twice(ps, i, f.q() == null ? null : JobAdmin.likeLiteral(f.q()));
      i = twiceTime(ps, i, f.from());
      i = twiceTime(ps, i, f.to());
      Timestamp afterTs = f.after() == null ? null : Timestamp.from(f.after().createdAt());
      ps.setTimestamp(i++, afterTs);
      ps.setTimestamp(i++, afterTs);
      ps.setObject(i++, f.after() == null ? null : f.after().id(), Types.OTHER);
      ps.setInt(i, limit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (jobs.size() == limit) {
            more = true;
            break;
          }
          jobs.add(
              new JobRow(
                  rs.getObject("id", UUID.class),
                  rs.getString("status"),
                  rs.getString("type"),
                  rs.getString("dependency"),
                  rs.getInt("attempts"),
                  rs.getInt("max_attempts"),
                  instant(rs, "created_at"),
                  instant(rs, "finished_at"),
                  rs.getString("last_error"),
                  rs.getString("waiting_for")));
        }
      }
    }
    JobRow last = jobs.isEmpty() ? null : jobs.get(jobs.size() - 1);
    return new JobPage(
        jobs, more ? new JobFilter.Cursor(last.createdAt(), last.id()).encode() : null);
  }

  /** The job with its attempts and, for a parent, children counts; null if there is none. */
  JobDetail job(UUID id) throws SQLException {
    try (Connection c = db.getConnection()) {
      JobDetail j;
      long childrenTotal;
      try (PreparedStatement ps = c.prepareStatement(JOB)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return null;
          }
          childrenTotal = rs.getLong("children_total");
          j =
              new JobDetail(
                  id,
                  rs.getObject("parent_id", UUID.class),
                  rs.getString("status"),
                  rs.getString("waiting_for"),
                  rs.getString("type"),
                  rs.getString("dependency"),
                  rs.getString("key"),
                  new FlowControl(
                      rs.getInt("priority"),
                      rs.getString("concurrency_key"),
                      rs.getObject("concurrency_limit", Integer.class)),
                  rs.getInt("attempts"),
                  rs.getInt("max_attempts"),
                  instant(rs, "created_at"),
                  instant(rs, "started_at"),
                  instant(rs, "finished_at"),
                  instant(rs, "next_run_at"),
                  rs.getString("worker_id"),
                  rs.getString("last_error"),
                  rs.getString("traceparent"),
                  json(rs.getString("payload")),
                  json(rs.getString("result")),
                  new ArrayList<>(),
                  null);
        }
      }
      try (PreparedStatement ps = c.prepareStatement(ATTEMPTS)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            j.attempts()
                .add(
                    new Attempt(
                        rs.getInt("attempt"),
                        rs.getString("worker_id"),
                        instant(rs, "started_at"),
                        instant(rs, "finished_at"),
                        rs.getString("outcome"),
                        rs.getString("error")));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(CHILDREN)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong("total") == 0 && childrenTotal == 0) {
            return j;
          }
          return withChildren(
              j, new Children(rs.getLong("total"), rs.getLong("done"), rs.getLong("failed")));
        }
      }
    }
  }

  private static JobDetail withChildren(JobDetail j, Children children) {
    return new JobDetail(
        j.id(),
        j.parentId(),
        j.status(),
        j.waitingFor(),
        j.type(),
        j.dependency(),
        j.key(),
        j.flow(),
        j.attemptCount(),
        j.maxAttempts(),
        j.createdAt(),
        j.startedAt(),
        j.finishedAt(),
        j.nextRunAt(),
        j.workerId(),
        j.lastError(),
        j.traceparent(),
        j.payload(),
        j.result(),
        j.attempts(),
        children);
  }

  /** Counts by status and by type (a parent has no type: listed as "(parent)"). */
  Stats stats() throws SQLException {
    try (Connection c = db.getConnection()) {
      return stats(c);
    }
  }

  private Stats stats(Connection c) throws SQLException {
    long rows;
    try (PreparedStatement ps = c.prepareStatement(ESTIMATED_ROWS);
        ResultSet rs = ps.executeQuery()) {
      rows = rs.next() ? rs.getLong(1) : 0;
    }
    boolean estimate = rows > exactCountMaxRows;
    Map<String, Long> byStatus = new TreeMap<>();
    Map<String, Map<String, Long>> byType = new TreeMap<>();
    try (PreparedStatement ps =
            c.prepareStatement(estimate ? LIVE_BY_TYPE_AND_STATUS : BY_TYPE_AND_STATUS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String type = rs.getString("type") == null ? "(parent)" : rs.getString("type");
        long n = rs.getLong("n");
        byStatus.merge(rs.getString("status"), n, Long::sum);
        byType.computeIfAbsent(type, t -> new TreeMap<>()).put(rs.getString("status"), n);
      }
    }
    if (estimate) {
      try (PreparedStatement ps = c.prepareStatement(STATUS_FREQUENCIES);
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String status = rs.getString("status");
          if (FINISHED.contains(status)) {
            byStatus.put(status, Math.round(rs.getDouble("freq") * rows));
          }
        }
      }
    }
    return new Stats(byStatus, byType, estimate);
  }

  private static final java.util.Set<String> FINISHED =
      java.util.Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  List<Breaker> breakers() throws SQLException {
    try (Connection c = db.getConnection()) {
      return breakers(c);
    }
  }

  private static List<Breaker> breakers(Connection c) throws SQLException {
    List<Breaker> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(BREAKERS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Breaker(
                rs.getString("dependency"),
                rs.getString("state"),
                rs.getDouble("failure_rate"),
                rs.getString("window"),
                rs.getInt("window_calls"),
                rs.getInt("trips"),
                instant(rs, "state_since"),
                instant(rs, "retry_at"),
                rs.getString("forced"),
                rs.getString("last_reason"),
                rs.getLong("generation")));
      }
    }
    return out;
  }

  List<Worker> workers() throws SQLException {
    try (Connection c = db.getConnection()) {
      return workers(c);
    }
  }

  private List<Worker> workers(Connection c) throws SQLException {
    List<Worker> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(WORKERS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        long age = rs.getLong("age_ms");
        Instant stopped = instant(rs, "stopped_at");
        out.add(
            new Worker(
                rs.getString("id"),
                rs.getString("host"),
                instant(rs, "started_at"),
                instant(rs, "heartbeat_at"),
                age,
                rs.getInt("concurrency"),
                rs.getInt("in_flight"),
                stopped,
                stopped == null && age <= workerDeadAfter.toMillis()));
      }
    }
    return out;
  }

  RejectedPage rejected(Long before, int limit) throws SQLException {
    List<Rejected> out = new ArrayList<>();
    boolean more = false;
    try (Connection c = db.getConnection();
        PreparedStatement ps = c.prepareStatement(REJECTED)) {
      ps.setInt(1, RAW_PREVIEW);
      ps.setObject(2, before, Types.BIGINT);
      ps.setObject(3, before, Types.BIGINT);
      ps.setInt(4, limit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (out.size() == limit) {
            more = true;
            break;
          }
          out.add(
              new Rejected(
                  rs.getLong("id"),
                  rs.getString("topic"),
                  rs.getInt("partition"),
                  rs.getLong("offset"),
                  rs.getString("reason"),
                  rs.getString("preview"),
                  rs.getInt("raw_length"),
                  instant(rs, "received_at")));
        }
      }
    }
    return new RejectedPage(out, more ? out.get(out.size() - 1).id() : null);
  }

  /** The overview as it is now. */
  Overview overview() throws SQLException {
    return computeOverview(clock.instant());
  }

  /**
   * The overview for the pages, computed at most once per {@link #OVERVIEW_TTL} whatever the number
   * of open consoles refreshing it.
   */
  synchronized Overview sharedOverview() throws SQLException {
    Instant now = clock.instant();
    if (lastOverview != null && lastOverview.at().plus(OVERVIEW_TTL).isAfter(now)) {
      return lastOverview;
    }
    lastOverview = computeOverview(now);
    return lastOverview;
  }

  /** Every figure of the first page, in one connection. */
  private Overview computeOverview(Instant now) throws SQLException {
    try (Connection c = db.getConnection()) {
      Stats stats = stats(c);
      Instant hourAgo = now.truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(59));
      Instant fiveAgo = now.truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(4));
      Map<String, long[]> byType = new TreeMap<>();
      Map<Instant, long[]> byMinute = new LinkedHashMap<>();
      for (int m = 0; m < 60; m++) {
        byMinute.put(hourAgo.plus(Duration.ofMinutes(m)), new long[2]);
      }
      try (PreparedStatement ps = c.prepareStatement(ACTIVITY)) {
        ps.setTimestamp(1, Timestamp.from(hourAgo));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Instant minute = instant(rs, "minute");
            long ok = rs.getLong("succeeded");
            long failed = rs.getLong("failed");
            long retried = rs.getLong("retried");
            String type = rs.getString("type").isEmpty() ? "(none)" : rs.getString("type");
            long[] t = byType.computeIfAbsent(type, k -> new long[6]);
            t[3] += ok;
            t[4] += failed;
            t[5] += retried;
            if (!minute.isBefore(fiveAgo)) {
              t[0] += ok;
              t[1] += failed;
              t[2] += retried;
            }
            long[] m = byMinute.get(minute);
            if (m != null) {
              m[0] += ok + failed;
              m[1] += failed;
            }
          }
        }
      }
      List<TypeActivity> activity = new ArrayList<>();
      byType.forEach(
          (type, t) -> activity.add(new TypeActivity(type, t[0], t[1], t[2], t[3], t[4], t[5])));
      List<Minute> perMinute = new ArrayList<>();
      byMinute.forEach((minute, m) -> perMinute.add(new Minute(minute, m[0], m[1])));
      Long lag = null;
      try (PreparedStatement ps = c.prepareStatement(QUEUE_LAG);
          ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getTimestamp("oldest") != null) {
          lag = Math.max(0, now.toEpochMilli() - rs.getTimestamp("oldest").getTime());
        }
      }
      List<Worker> workers = workers(c);
      int alive = 0;
      int inFlight = 0;
      int capacity = 0;
      for (Worker w : workers) {
        if (w.alive()) {
          alive++;
          inFlight += w.inFlight();
          capacity += w.concurrency();
        }
      }
      long rejectedTotal;
      long rejectedHour;
      try (PreparedStatement ps = c.prepareStatement(REJECTED_COUNTS);
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        rejectedTotal = rs.getLong("total");
        rejectedHour = rs.getLong("last_hour");
      }
      return new Overview(
          stats,
          activity,
          perMinute,
          lag,
          breakers(c),
          alive,
          inFlight,
          capacity,
          rejectedTotal,
          rejectedHour,
          now);
    }
  }

  private static int twice(PreparedStatement ps, int i, String v) throws SQLException {
    ps.setString(i, v);
    ps.setString(i + 1, v);
    return i + 2;
  }

  private static int twiceTime(PreparedStatement ps, int i, Instant v) throws SQLException {
    Timestamp t = v == null ? null : Timestamp.from(v);
    ps.setTimestamp(i, t);
    ps.setTimestamp(i + 1, t);
    return i + 2;
  }

  private static Instant instant(ResultSet rs, String col) throws SQLException {
    Timestamp t = rs.getTimestamp(col);
    return t == null ? null : t.toInstant();
  }

  private static JsonNode json(String text) {
    try {
      return text == null ? null : JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return JSON.getNodeFactory().textNode(text);
    }
  }
}
