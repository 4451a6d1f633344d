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
import dev.ferry.orchestrator.store.UnnestBinder;
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

  private static final String PING = "SELECT 1";

  private static final String FAIL_UNRESCUABLE =
      """
      UPDATE ferry.jobs SET status = 'FAILED', last_error = ?, finished_at = now(),
             updated_at = now()
      WHERE id = ? AND status = 'RUNNING'
      """;

  /** Most stuck attempts taken back in one transaction: 500. */
  static final int RESCUE_BATCH = 500;

  /** The longest wait after failed rounds: 10 s, or the poll interval if that is longer. */
  private static final Duration MIN_MAX_BACKOFF = Duration.ofSeconds(10);

  private static final String THREAD_NAME = "ferry-rescuer";

  private record Stuck(
      UUID id, int crashes, String workerId, Instant startedAt, long silentS, boolean restarted) {}

  /** What {@link #TAKE_BACK} does to one job (a null keeps the job's current value). */
  private record TakeBack(
      UUID id, long run, JobStatus status, Instant nextRunAt, String error, Instant finishedAt) {}

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
    this.loop = new PeriodicLoop(THREAD_NAME, interval, interval,
        interval.compareTo(MIN_MAX_BACKOFF) > 0 ? interval : MIN_MAX_BACKOFF, false,
        running -> {
          if (inGrace(System.nanoTime())) {
            return;
          }
          int n;
          try {
            do {
              n = rescueOnce(RESCUE_BATCH);
            } while (n == RESCUE_BATCH && running.getAsBoolean());
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
          metrics.loopError(THREAD_NAME);
        });
  }

  public void start() {
    loop.start();
  }

  /** Rescues wait after this process could not reach the database (see {@link RescueGrace}). */
  private boolean inGrace(long now) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(PING)) {
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

  /** Attempts taken back from dead workers by this process so far (reported by health). */
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
        List<TakeBack> takeBacks = new ArrayList<>(n);
        List<AttemptRow> attempts = new ArrayList<>(n);
        List<FanIn.Finished> finished = new ArrayList<>();
        List<JobEvent> events = new ArrayList<>();
        TreeSet<String> workers = new TreeSet<>();
        boolean due = false;
        for (JobRow row : rows.values()) {
          Stuck s = stuck.get(row.id());
          workers.add(String.valueOf(s.workerId()));
          int crashes = s.crashes() + 1;
          String died = "worker " + s.workerId() + " died while running attempt " + row.attempts()
              + (s.restarted() ? " (it restarted since)" : " (no heartbeat for " + s.silentS() + " s)");
          JobStatus status;
          String error;
          Instant next = null;
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
            next = now.plus(RetryDelays.delayAfter(row.attempts(), policy, random));
            due = true;
          }
          boolean failed = status == JobStatus.FAILED;
          takeBacks.add(new TakeBack(row.id(), row.runSeq(), status, next, error,
              failed ? now : null));
          if (failed) {
            finished.add(new FanIn.Finished(row.id(), row.parentId(), status, error));
          }
          attempts.add(AttemptRow.ended(row.id(), row.attempts(), s.workerId(), s.startedAt(), now,
              "WORKER_LOST", died));
          events.add(new JobEvent(row.id(), row.parentId(), status, row.attempts(), null, error,
              now));
        }
        try (PreparedStatement ps = c.prepareStatement(TAKE_BACK)) {
          new UnnestBinder(c, ps)
              .uuids(takeBacks, TakeBack::id)
              .longs(takeBacks, TakeBack::run)
              .texts(takeBacks, t -> t.status().name())
              .timestamps(takeBacks, TakeBack::nextRunAt)
              .texts(takeBacks, TakeBack::error)
              .timestamps(takeBacks, TakeBack::finishedAt);
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
        try (PreparedStatement ps = c.prepareStatement(FAIL_UNRESCUABLE)) {
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
    metrics.quarantined(THREAD_NAME);
  }

  private Map<UUID, Stuck> findStuck(Connection c, int limit) throws SQLException {
    Map<UUID, Stuck> out = new LinkedHashMap<>();
    double secs = after.toMillis() / 1000.0;
    try (PreparedStatement ps = c.prepareStatement(FIND_STUCK)) {
      ps.setDouble(1, secs);
      ps.setDouble(2, secs);
      ps.setArray(3, c.createArrayOf("uuid", setAside.toArray(UUID[]::new)));
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject("id", UUID.class);
          Timestamp started = rs.getTimestamp("started_at");
          out.put(id, new Stuck(id, rs.getInt("crashes"), rs.getString("worker_id"),
              started == null ? null : started.toInstant(), rs.getLong("silent_s"),
              rs.getBoolean("restarted")));
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
