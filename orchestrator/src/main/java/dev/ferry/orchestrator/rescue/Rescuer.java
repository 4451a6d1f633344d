package dev.ferry.orchestrator.rescue;

import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.RetryDelays;
import dev.ferry.orchestrator.apply.EventRecords;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.loop.Failures;
import dev.ferry.orchestrator.loop.PeriodicLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobRow;
import dev.ferry.orchestrator.store.JobStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rescues attempts whose worker died. A {@code RUNNING} job whose worker has not heartbeated in
 * {@code rescue.after.ms} (killed, out of memory, partitioned away), or that was restarted under
 * the same id since the attempt started, is taken back within
 * seconds: the attempt is recorded as {@code WORKER_LOST}, the job's crash count goes up, and
 * the job is retried after its backoff, or ends {@code FAILED} when its attempts are used up or
 * when workers died {@code poison.max.crashes} times running it (a poison job that kills its
 * JVM is not redelivered forever). Changing the status fences the old attempt: its late outcome
 * no longer matches a live dispatch and changes nothing.
 *
 * <p>Any number of orchestrators may run it: rows are claimed with {@code FOR UPDATE SKIP
 * LOCKED}, and each rescue is one transaction (job updates, attempt rows, fan-in, events acked
 * before commit).
 */
public final class Rescuer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

  private static final String FIND_STUCK =
      """
      SELECT j.id, j.crashes, j.worker_id, j.started_at,
             extract(epoch FROM now() - coalesce(w.heartbeat_at, j.updated_at))::bigint AS silent_s,
             coalesce(w.started_at > j.updated_at, false) AS restarted
      FROM ferry.jobs j LEFT JOIN ferry.workers w ON w.id = j.worker_id
      WHERE j.status = 'RUNNING'
        AND j.updated_at < now() - make_interval(secs => ?)
        -- the worker is silent, gone, or was restarted (same id) after the attempt started
        AND (w.id IS NULL OR w.heartbeat_at < now() - make_interval(secs => ?)
             OR w.started_at > j.updated_at)
        -- jobs set aside after their rescue failed on their own
        AND NOT (j.id = ANY(?::uuid[]))
      ORDER BY j.id
      LIMIT ?
      FOR UPDATE OF j SKIP LOCKED
      """;

  private static final String TAKE_BACK =
      """
      UPDATE ferry.jobs j
      SET status = u.status, crashes = j.crashes + 1,
          next_run_at = coalesce(u.next_run_at, j.next_run_at), last_error = u.error,
          finished_at = u.finished_at, updated_at = now()
      FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::timestamptz[], ?::text[], ?::timestamptz[])
           AS u(id, run, status, next_run_at, error, finished_at)
      WHERE j.id = u.id AND j.status = 'RUNNING' AND j.run_seq = u.run
      """;

  private record Stuck(
      UUID id, int crashes, String workerId, Instant startedAt, long silentS, boolean restarted) {}

  private final DataSource dataSource;
  private final JobStore store;
  private final KafkaProducer<String, byte[]> producer;
  private final String eventsTopic;
  private final BackoffPolicy defaultBackoff;
  private final Duration after;
  private final RescueGrace grace;
  private boolean holding;
  private final int poisonCrashes;
  private final Clock clock;
  private final RandomGenerator random;
  private final OrchestratorMetrics metrics;
  private final FanIn fanIn = new FanIn();
  private final PeriodicLoop loop;
  private final AtomicLong rescued = new AtomicLong();

  public Rescuer(
      DataSource dataSource, JobStore store, KafkaProducer<String, byte[]> producer,
      String eventsTopic, BackoffPolicy defaultBackoff, Duration after, Duration interval,
      int poisonCrashes, Clock clock, RandomGenerator random) {
    this(dataSource, store, producer, eventsTopic, defaultBackoff, after, interval, poisonCrashes,
        clock, random, OrchestratorMetrics.none());
  }

  public Rescuer(
      DataSource dataSource, JobStore store, KafkaProducer<String, byte[]> producer,
      String eventsTopic, BackoffPolicy defaultBackoff, Duration after, Duration interval,
      int poisonCrashes, Clock clock, RandomGenerator random, OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.eventsTopic = eventsTopic;
    this.defaultBackoff = defaultBackoff;
    this.after = after;
    this.poisonCrashes = poisonCrashes;
    this.clock = clock;
    this.random = random;
    this.grace = new RescueGrace(after, interval);
    this.loop = new PeriodicLoop("ferry-rescuer", interval, interval,
        interval.compareTo(Duration.ofSeconds(10)) > 0 ? interval : Duration.ofSeconds(10), false,
        running -> {
          if (inGrace(System.nanoTime())) {
            return;
          }
          int n;
          try {
            do {
              n = rescueOnce(500);
            } while (n == 500 && running.getAsBoolean());
          } catch (Exception e) {
            if (Failures.classify(e) != Failures.Kind.RECORD) {
              throw e;
            }
            // Some job's data made the batch fail: rescue one at a time, set the culprit aside.
            isolate(e);
          }
        },
        (e, retryInMs) -> {
          log.warn("Rescuer: database or Kafka unavailable, retrying in {} ms: {}", retryInMs,
              e.toString());
          metrics.loopError("ferry-rescuer");
        });
  }

  public void start() {
    loop.start();
  }

  /** Rescues wait after this process could not reach the database (see {@link RescueGrace}). */
  private boolean inGrace(long now) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT 1")) {
      ps.execute();
    }
    boolean wasHolding = holding;
    holding = grace.reached(now);
    if (holding && !wasHolding) {
      log.info("Rescuer: (re)connected to the database; taking nothing back for {} ms while"
          + " workers heartbeat again", grace.length().toMillis());
    }
    return holding;
  }

  /** Attempts taken back from dead workers by this process so far. */
  public long rescued() {
    return rescued.get();
  }

  public boolean isAlive() {
    return loop.isAlive();
  }

  /** One scan: takes back up to {@code limit} stuck attempts; returns how many. */
  public int rescueOnce(int limit) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Map<UUID, Stuck> stuck = findStuck(c, limit);
        if (stuck.isEmpty()) {
          c.commit();
          return 0;
        }
        Map<UUID, JobRow> rows = store.lockJobs(c, stuck.keySet());
        Instant now = clock.instant();
        int n = rows.size();
        UUID[] ids = new UUID[n];
        Long[] runs = new Long[n];
        String[] statuses = new String[n];
        Timestamp[] next = new Timestamp[n];
        String[] errors = new String[n];
        Timestamp[] finishedAt = new Timestamp[n];
        List<AttemptRow> attempts = new ArrayList<>(n);
        List<FanIn.Finished> finished = new ArrayList<>();
        List<JobEvent> events = new ArrayList<>();
        TreeSet<String> workers = new TreeSet<>();
        boolean due = false;
        int i = 0;
        for (JobRow row : rows.values()) {
          Stuck s = stuck.get(row.id());
          workers.add(String.valueOf(s.workerId()));
          int crashes = s.crashes() + 1;
          String died = "worker " + s.workerId() + " died while running attempt " + row.attempts()
              + (s.restarted() ? " (it restarted since)" : " (no heartbeat for " + s.silentS() + " s)");
          JobStatus status;
          String error;
          if (crashes >= poisonCrashes) {
            status = JobStatus.FAILED;
            error = "poison: " + crashes + " workers died while running this job; not retried ("
                + died + ")";
          } else if (row.attempts() >= row.maxAttempts()) {
            status = JobStatus.FAILED;
            error = "attempt " + row.attempts() + " of " + row.maxAttempts() + ": " + died;
          } else {
            status = JobStatus.RETRY_WAIT;
            error = died;
            BackoffPolicy policy = row.backoff() == null ? defaultBackoff : row.backoff();
            next[i] = Timestamp.from(now.plus(RetryDelays.delayAfter(row.attempts(), policy, random)));
            due = true;
          }
          ids[i] = row.id();
          runs[i] = row.runSeq();
          statuses[i] = status.name();
          errors[i] = error;
          if (status == JobStatus.FAILED) {
            finishedAt[i] = Timestamp.from(now);
            finished.add(new FanIn.Finished(row.id(), row.parentId(), status, error));
          }
          attempts.add(AttemptRow.ended(row.id(), row.attempts(), s.workerId(), s.startedAt(), now,
              "WORKER_LOST", died));
          events.add(new JobEvent(row.id(), row.parentId(), status, row.attempts(), null, error,
              now));
          i++;
        }
        try (PreparedStatement ps = c.prepareStatement(TAKE_BACK)) {
          ps.setArray(1, c.createArrayOf("uuid", ids));
          ps.setArray(2, c.createArrayOf("int8", runs));
          ps.setArray(3, c.createArrayOf("text", statuses));
          ps.setArray(4, c.createArrayOf("timestamptz", next));
          ps.setArray(5, c.createArrayOf("text", errors));
          ps.setArray(6, c.createArrayOf("timestamptz", finishedAt));
          ps.executeUpdate();
        }
        store.upsertAttempts(c, attempts);
        FanIn.Effects effects = fanIn.apply(c, finished, now);
        events.addAll(effects.events());
        if (due || effects.due()) {
          store.notifyDue(c);
        }
        List<Future<RecordMetadata>> sends = new ArrayList<>(events.size());
        for (JobEvent e : events) {
          JobRow row = rows.get(e.jobId());
          sends.add(producer.send(EventRecords.of(eventsTopic, e,
              row != null ? row.traceparent() : effects.traces().get(e.jobId()))));
        }
        for (Future<RecordMetadata> f : sends) {
          f.get();
        }
        c.commit();
        rescued.addAndGet(n);
        log.warn("Rescued {} attempt(s) of dead worker(s) {}: {} retried, {} failed", n, workers,
            n - finished.size(), finished.size());
        return n;
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Stuck jobs whose rescue failed on their own; skipped from then on (logged, counted). */
  private final java.util.Set<UUID> setAside = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Bound of {@link #setAside}: past it, the oldest entries are forgotten (retried). */
  private static final int MAX_SET_ASIDE = 10_000;

  /**
   * Rescues stuck jobs one per transaction; a job whose own rescue fails with a data error ends
   * FAILED with the reason (attempt row, fan-in) in a minimal transaction, or, if even that
   * fails, is set aside so that it never blocks the others.
   */
  private void isolate(Exception batchError) throws Exception {
    log.warn("Rescuer: a batch failed because of its data ({}); rescuing one job at a time",
        Failures.reason(batchError));
    while (true) {
      try {
        if (rescueOnce(1) == 0) {
          return;
        }
      } catch (Exception e) {
        if (Failures.classify(e) != Failures.Kind.RECORD) {
          throw e;
        }
        UUID culprit;
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          var one = findStuck(c, 1);
          c.rollback();
          if (one.isEmpty()) {
            return;
          }
          culprit = one.keySet().iterator().next();
        }
        failUnrescuable(culprit, Failures.reason(e));
      }
    }
  }

  private void failUnrescuable(UUID id, String reason) throws Exception {
    String error = "could not be rescued: " + reason;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        UUID parent = store.parentsOf(c, List.of(id)).get(id);
        int changed;
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE ferry.jobs SET status = 'FAILED', last_error = ?, finished_at = now(),"
                + " updated_at = now() WHERE id = ? AND status = 'RUNNING'")) {
          ps.setString(1, error);
          ps.setObject(2, id);
          changed = ps.executeUpdate();
        }
        if (changed == 1) {
          FanIn.Effects fx = fanIn.apply(c,
              List.of(new FanIn.Finished(id, parent, JobStatus.FAILED, error)), clock.instant());
          if (fx.due()) {
            store.notifyDue(c);
          }
        }
        c.commit();
        log.warn("Rescuer: job {} ended FAILED: {}", id, error);
      } catch (Exception e) {
        c.rollback();
        if (Failures.classify(e) == Failures.Kind.TRANSIENT) {
          throw e;
        }
        if (setAside.size() >= MAX_SET_ASIDE) {
          setAside.clear();
        }
        setAside.add(id);
        log.error("Rescuer: job {} could not be rescued ({}) nor failed ({}); skipping it", id,
            reason, Failures.reason(e));
      }
    }
    metrics.quarantined("ferry-rescuer");
  }

  private Map<UUID, Stuck> findStuck(Connection c, int limit) throws SQLException {
    Map<UUID, Stuck> out = new LinkedHashMap<>();
    double secs = after.toMillis() / 1000.0;
    try (PreparedStatement ps = c.prepareStatement(FIND_STUCK)) {
      ps.setDouble(1, secs);
      ps.setDouble(2, secs);
      ps.setArray(3, c.createArrayOf("uuid", setAside.toArray()));
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          Timestamp started = rs.getTimestamp(4);
          out.put(id, new Stuck(id, rs.getInt(2), rs.getString(3),
              started == null ? null : started.toInstant(), rs.getLong(5), rs.getBoolean(6)));
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    loop.close();
  }
}
