package dev.ferry.orchestrator.schedule;

import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.loop.Backoff;
import dev.ferry.core.model.ScheduleSpec;
import dev.ferry.core.model.Submission;
import dev.ferry.core.schedule.CronSchedule;
import dev.ferry.core.text.SafeText;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.intake.IntakeStore;
import dev.ferry.orchestrator.intake.JobRows;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.orchestrator.store.NewJob;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires schedules: creates the job of every due tick, exactly once fleet-wide.
 *
 * <p>Each round locks the due schedules with {@code FOR UPDATE SKIP LOCKED} (another orchestrator
 * skips them), inserts one job per tick and moves {@code next_fire_at} past them, in one
 * transaction. A tick's job id is derived from the schedule's name and the tick, so even a second
 * insert of one tick (after a crash between the insert and the commit, or a replaced schedule) is a
 * no-op. The job is {@code PENDING} with {@code next_run_at} = the tick; the dispatcher, woken at
 * commit, puts it on the work topic.
 *
 * <p>A tick more than {@code schedule.misfire.grace.ms} late (no orchestrator ran) is missed:
 * {@code skip} drops missed ticks, {@code run-once} creates one catch-up job (for the first of
 * them); the schedule goes on with its next tick. Between rounds the scheduler sleeps until the
 * next tick, woken earlier by {@code NOTIFY ferry_schedules} when a schedule changes.
 */
public final class Scheduler implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
  private static final String THREAD_NAME = "ferry-scheduler";

  /** Schedules fired per round (the rest wait for the next round, at once). */
  static final int BATCH = 500;

  /** Ticks of one schedule fired per round (an every-second schedule after a long stall). */
  static final int MAX_TICKS_PER_SCHEDULE = 100;

  /** Longest sleep between rounds (a safety net; NOTIFY and the next tick wake it earlier). */
  private static final long MAX_WAIT_MS = 1000;

  private static final long CLOSE_TIMEOUT_S = 15;

  private final DataSource dataSource;
  private final JobStore jobStore;
  private final ScheduleStore store = new ScheduleStore();
  private final IntakeStore intakeStore = new IntakeStore();
  private final SubmissionCodec codec;
  private final JobRows rows;
  private final Duration misfireGrace;
  private final Clock clock;
  private final OrchestratorMetrics metrics;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile String failing;

  public Scheduler(
      DataSource dataSource,
      JobStore jobStore,
      OrchestratorSettings settings,
      Duration misfireGrace,
      Clock clock,
      OrchestratorMetrics metrics) {
    this.dataSource = dataSource;
    this.jobStore = jobStore;
    this.codec = new SubmissionCodec(settings.limits());
    this.rows = new JobRows(settings);
    this.misfireGrace = misfireGrace;
    this.clock = clock;
    this.metrics = metrics;
    this.thread = Thread.ofPlatform().name(THREAD_NAME).unstarted(this);
  }

  /** The id of a tick's job: the same for the same schedule and tick, on every orchestrator. */
  public static UUID tickId(String schedule, Instant tick) {
    return UUID.nameUUIDFromBytes(
        ("ferry-schedule:" + schedule + "@" + tick).getBytes(StandardCharsets.UTF_8));
  }

  public void start() {
    thread.start();
  }

  public boolean isAlive() {
    return thread.isAlive();
  }

  /** The error of the failing round, or null. */
  public String failing() {
    return failing;
  }

  @Override
  public void run() {
    Backoff backoff = Backoff.standard();
    try {
      while (running) {
        try (Connection listen = dataSource.getConnection()) {
          try (Statement st = listen.createStatement()) {
            st.execute("LISTEN " + ScheduleStore.CHANNEL);
          }
          PGConnection pg = listen.unwrap(PGConnection.class);
          backoff.reset();
          while (running) {
            int fired = fireOnce();
            failing = null;
            if (fired >= BATCH) {
              continue;
            }
            long waitMs = MAX_WAIT_MS;
            Instant next;
            try (Connection c = dataSource.getConnection()) {
              next = store.nextDue(c);
            }
            if (next != null) {
              waitMs =
                  Math.max(
                      0, Math.min(waitMs, Duration.between(clock.instant(), next).toMillis() + 1));
            }
            if (waitMs > 0) {
              pg.getNotifications((int) waitMs);
            }
          }
        } catch (SQLException | RuntimeException e) {
          if (!running) {
            break;
          }
          long waitMs = backoff.next();
          log.warn("Scheduler: database unavailable, retrying in {} ms: {}", waitMs, e.toString());
          failing = SafeText.echo(e.toString(), 500);
          metrics.loopError(THREAD_NAME);
          if (Backoff.await(stopped, waitMs)) {
            break;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      stopped.countDown();
    }
  }

  /** One round: fire every due schedule's ticks. Returns how many schedules were due. */
  public int fireOnce() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Instant now = clock.instant();
        List<ScheduleStore.Due> due = store.claimDue(c, now, BATCH);
        if (due.isEmpty()) {
          c.commit();
          return 0;
        }
        List<NewJob> jobs = new ArrayList<>();
        List<ScheduleStore.Advance> advances = new ArrayList<>();
        for (ScheduleStore.Due d : due) {
          advances.add(fire(d, now, jobs));
        }
        int inserted = intakeStore.insertJobs(c, jobs).size();
        store.advance(c, advances);
        if (inserted > 0) {
          jobStore.notifyDue(c);
        }
        c.commit();
        metrics.scheduled(inserted);
        return due.size();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Adds the rows of a due schedule's ticks to {@code jobs}; returns its advance. */
  private ScheduleStore.Advance fire(ScheduleStore.Due d, Instant now, List<NewJob> jobs) {
    CronSchedule cron;
    Submission template;
    try {
      cron = cron(d.cron(), d.timeZone());
      template = codec.decode(d.templateJson().getBytes(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | InvalidSubmissionException e) {
      // Stored before a limit was lowered, or edited by hand: set aside (never fires again)
      // rather than retried every round.
      log.error(
          "Schedule {} cannot fire and is stopped (next_fire_at NULL): {}",
          d.name(),
          SafeText.echo(e.getMessage()));
      return new ScheduleStore.Advance(d.name(), null, null);
    }
    Instant cutoff = now.minus(misfireGrace);
    Instant tick = d.nextFireAt();
    Instant last = null;
    if (tick.isBefore(cutoff)) {
      boolean once = ScheduleSpec.Misfire.RUN_ONCE.wireName().equals(d.misfire());
      log.info(
          "Schedule {} missed ticks from {} ({}){}",
          d.name(),
          tick,
          d.misfire(),
          once ? ": one catch-up job" : "");
      if (once) {
        add(d.name(), template, tick, jobs);
        last = tick;
      }
      tick = cron.nextAfter(cutoff.minusNanos(1)).orElse(null);
    }
    int n = 0;
    while (tick != null && !tick.isAfter(now) && n < MAX_TICKS_PER_SCHEDULE) {
      add(d.name(), template, tick, jobs);
      last = tick;
      n++;
      tick = cron.nextAfter(tick).orElse(null);
    }
    return new ScheduleStore.Advance(d.name(), tick, last);
  }

  /** Parsed expressions by "cron|zone": parsing is most of a round's CPU with many schedules. */
  private final java.util.Map<String, CronSchedule> crons =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Most parsed expressions kept; beyond it the cache starts over. */
  private static final int MAX_CACHED_CRONS = 10_000;

  private CronSchedule cron(String expression, String zone) {
    String key = expression + "|" + zone;
    CronSchedule c = crons.get(key);
    if (c == null) {
      c = CronSchedule.parse(expression, zone);
      if (crons.size() >= MAX_CACHED_CRONS) {
        crons.clear();
      }
      crons.put(key, c);
    }
    return c;
  }

  private void add(String name, Submission template, Instant tick, List<NewJob> jobs) {
    UUID id = tickId(name, tick);
    int root = jobs.size();
    rows.flatten(template.forTick(id, tick), null, id, TraceContext.fresh(), jobs);
    jobs.set(root, jobs.get(root).withScheduleName(name));
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      if (!stopped.await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS)) {
        log.warn("Scheduler did not stop within {} s", CLOSE_TIMEOUT_S);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
