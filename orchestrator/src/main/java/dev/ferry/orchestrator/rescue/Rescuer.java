package dev.ferry.orchestrator.rescue;

import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.orchestrator.apply.EventRecords;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.loop.Failures;
import dev.ferry.orchestrator.loop.PeriodicLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.ActivityStore;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobRow;
import dev.ferry.orchestrator.store.JobStore;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * the same id since the attempt started, is taken back within seconds: the attempt is recorded as
 * {@code WORKER_LOST}, the job's crash count goes up, and the job is retried after its backoff, or
 * ends {@code FAILED} when its attempts are used up or when workers died {@code poison.max.crashes}
 * times running it (a poison job that kills its JVM is not redelivered forever). Changing the
 * status fences the old attempt: its late outcome no longer matches a live dispatch and changes
 * nothing.
 *
 * <p>Any number of orchestrators may run it: rows are claimed with {@code FOR UPDATE SKIP LOCKED},
 * and each rescue is one transaction (job updates, attempt rows, fan-in, events acked before
 * commit). What becomes of each job is {@link RescuePolicy}'s decision (pure, unit-tested); the
 * statements are {@link RescueStore}'s.
 */
public final class Rescuer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

  /** Most stuck attempts taken back in one transaction: 500. */
  static final int RESCUE_BATCH = 500;

  /** The longest wait after failed rounds: 10 s, or the poll interval if that is longer. */
  private static final Duration MIN_MAX_BACKOFF = Duration.ofSeconds(10);

  private static final String THREAD_NAME = "ferry-rescuer";

  private final DataSource dataSource;
  private final JobStore store;
  private final ActivityStore activity = new ActivityStore();
  private final KafkaProducer<String, byte[]> producer;
  private final String eventsTopic;
  private final Duration after;
  private final RescueGrace grace;

  /** Whether rescues wait (see {@link #inGrace}); only the loop's thread reads and writes it. */
  private boolean holding;

  private final RescuePolicy policy;
  private final RescueStore rescueStore = new RescueStore();
  private final Clock clock;
  private final RandomGenerator random;
  private final OrchestratorMetrics metrics;
  private final FanIn fanIn = new FanIn();
  private final PeriodicLoop loop;
  private final AtomicLong rescued = new AtomicLong();

  public Rescuer(
      DataSource dataSource,
      JobStore store,
      KafkaProducer<String, byte[]> producer,
      String eventsTopic,
      BackoffPolicy defaultBackoff,
      Duration after,
      Duration interval,
      int poisonCrashes,
      Clock clock,
      RandomGenerator random) {
    this(
        dataSource,
        store,
        producer,
        eventsTopic,
        defaultBackoff,
        after,
        interval,
        poisonCrashes,
        clock,
        random,
        OrchestratorMetrics.none());
  }

  public Rescuer(
      DataSource dataSource,
      JobStore store,
      KafkaProducer<String, byte[]> producer,
      String eventsTopic,
      BackoffPolicy defaultBackoff,
      Duration after,
      Duration interval,
      int poisonCrashes,
      Clock clock,
      RandomGenerator random,
      OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.eventsTopic = eventsTopic;
    this.after = after;
    this.policy = new RescuePolicy(poisonCrashes, defaultBackoff);
    this.clock = clock;
    this.random = random;
    this.grace = new RescueGrace(after, interval);
    this.loop =
        new PeriodicLoop(
            THREAD_NAME,
            interval,
            interval,
            interval.compareTo(MIN_MAX_BACKOFF) > 0 ? interval : MIN_MAX_BACKOFF,
            false,
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
              log.warn(
                  "Rescuer: database or Kafka unavailable, retrying in {} ms: {}",
                  retryInMs,
                  e.toString());
              metrics.loopError(THREAD_NAME);
            });
  }

  public void start() {
    loop.start();
  }

  /** Rescues wait after this process could not reach the database (see {@link RescueGrace}). */
  private boolean inGrace(long now) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      rescueStore.ping(c);
    }
    boolean wasHolding = holding;
    holding = grace.reached(now);
    if (holding && !wasHolding) {
      log.info(
          "Rescuer: (re)connected to the database; taking nothing back for {} ms while"
              + " workers heartbeat again",
          grace.length().toMillis());
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
        Map<UUID, RescuePolicy.Stuck> stuck = rescueStore.findStuck(c, after, setAside, limit);
        if (stuck.isEmpty()) {
          c.commit();
          return 0;
        }
        Map<UUID, JobRow> rows = store.lockJobs(c, stuck.keySet());
        Instant now = clock.instant();
        int n = rows.size();
        List<RescuePolicy.TakeBack> takeBacks = new ArrayList<>(n);
        List<AttemptRow> attempts = new ArrayList<>(n);
        List<FanIn.Finished> finished = new ArrayList<>();
        List<JobEvent> events = new ArrayList<>();
        TreeSet<String> workers = new TreeSet<>();
        boolean due = false;
        for (JobRow row : rows.values()) {
          RescuePolicy.Stuck s = stuck.get(row.id());
          workers.add(String.valueOf(s.workerId()));
          RescuePolicy.TakeBack t = policy.decide(row, s, now, random);
          takeBacks.add(t);
          if (t.failed()) {
            finished.add(new FanIn.Finished(row.id(), row.parentId(), t.status(), t.error()));
          } else {
            due = true;
          }
          attempts.add(
              AttemptRow.ended(
                  row.id(),
                  row.attempts(),
                  s.workerId(),
                  s.startedAt(),
                  now,
                  "WORKER_LOST",
                  t.attemptError()));
          events.add(
              new JobEvent(
                  row.id(), row.parentId(), t.status(), row.attempts(), null, t.error(), now));
        }
        rescueStore.takeBack(c, takeBacks);
        store.upsertAttempts(c, attempts);
        FanIn.Effects effects = fanIn.apply(c, finished, now);
        events.addAll(effects.events());
        // Also when jobs ended: a key slot or dependency capacity they held is free.
        if (due || effects.due() || !finished.isEmpty()) {
          store.notifyDue(c);
        }
        List<Future<RecordMetadata>> sends = new ArrayList<>(events.size());
        for (JobEvent e : events) {
          JobRow row = rows.get(e.jobId());
          sends.add(
              producer.send(
                  EventRecords.of(
                      eventsTopic,
                      e,
                      row != null ? row.traceparent() : effects.traces().get(e.jobId()))));
        }
        for (Future<RecordMetadata> f : sends) {
          f.get();
        }
        List<ActivityStore.Outcome> outcomes = new ArrayList<>(n);
        int k = 0;
        for (JobRow row : rows.values()) {
          outcomes.add(new ActivityStore.Outcome(row.type(), takeBacks.get(k++).status()));
        }
        activity.record(c, now, outcomes);
        c.commit();
        rescued.addAndGet(n);
        log.warn(
            "Rescued {} attempt(s) of dead worker(s) {}: {} retried, {} failed",
            n,
            workers,
            n - finished.size(),
            finished.size());
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
   * FAILED with the reason (attempt row, fan-in) in a minimal transaction, or, if even that fails,
   * is set aside so that it never blocks the others.
   */
  private void isolate(Exception batchError) throws Exception {
    log.warn(
        "Rescuer: a batch failed because of its data ({}); rescuing one job at a time",
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
          var one = rescueStore.findStuck(c, after, setAside, 1);
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
        if (rescueStore.failUnrescuable(c, id, error)) {
          FanIn.Effects fx =
              fanIn.apply(
                  c,
                  List.of(new FanIn.Finished(id, parent, JobStatus.FAILED, error)),
                  clock.instant());
          // Also for the key slot or dependency capacity the job held.
          store.notifyDue(c);
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
        log.error(
            "Rescuer: job {} could not be rescued ({}) nor failed ({}); skipping it",
            id,
            reason,
            Failures.reason(e));
      }
    }
    metrics.quarantined(THREAD_NAME);
  }

  @Override
  public void close() {
    loop.close();
  }
}
