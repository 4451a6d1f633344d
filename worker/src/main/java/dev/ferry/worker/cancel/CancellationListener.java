package dev.ferry.worker.cancel;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.loop.Backoff;
import dev.ferry.worker.exec.JobRunner;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on Postgres channel {@code ferry_cancel} and hands cancelled job ids to the {@link
 * JobRunner}, which interrupts running handlers and skips queued work items. One connection per
 * worker; on a database outage it reconnects with backoff (cancellation is then delayed, never
 * wrong: the orchestrator ignores outcomes of cancelled jobs anyway).
 */
public final class CancellationListener implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CancellationListener.class);

  /** Must match {@code JobAdmin.CANCEL_CHANNEL} in the orchestrator module. */
  public static final String CHANNEL = "ferry_cancel";

  /** The loop's name in {@code ferry.loop.errors} (its thread's name). */
  public static final String LOOP_NAME = "ferry-worker-cancel";

  /** The first reconnect wait after the database is lost: 200 ms, doubling up to 5 s. */
  static final Duration RECONNECT_FIRST = Duration.ofMillis(200);

  /** The longest reconnect wait: 5 s. */
  static final Duration RECONNECT_MAX = Duration.ofSeconds(5);

  /** How long one wait for notifications lasts (how soon {@link #close} is seen): 500 ms. */
  static final Duration NOTIFICATION_WAIT = Duration.ofMillis(500);

  /** How long {@link #close} waits for the thread to end: 2 s. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final DataSource dataSource;
  private final JobRunner runner;
  private final WorkerMetrics metrics;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch listening = new CountDownLatch(1);
  private volatile boolean running = true;

  /**
   * @param metrics counts each lost connection as a {@code ferry.loop.errors} of this loop
   */
  public CancellationListener(DataSource dataSource, JobRunner runner, WorkerMetrics metrics) {
    this.dataSource = dataSource;
    this.runner = runner;
    this.metrics = metrics;
    this.thread = Thread.ofPlatform().name(LOOP_NAME).daemon().unstarted(this);
  }

  public void start() {
    thread.start();
  }

  /** Waits until the listener is subscribed (for tests and orderly start-up). */
  public boolean awaitListening(long timeout, TimeUnit unit) throws InterruptedException {
    return listening.await(timeout, unit);
  }

  @Override
  public void run() {
    Backoff backoff = new Backoff(RECONNECT_FIRST, RECONNECT_MAX);
    try {
      while (running) {
        try (Connection c = dataSource.getConnection()) {
          try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + CHANNEL);
          }
          listening.countDown();
          backoff.reset();
          PGConnection pg = c.unwrap(PGConnection.class);
          while (running) {
            PGNotification[] ns = pg.getNotifications((int) NOTIFICATION_WAIT.toMillis());
            if (ns == null) {
              continue;
            }
            Map<UUID, Long> ids = new HashMap<>();
            for (PGNotification n : ns) {
              parse(n.getParameter(), ids);
            }
            if (!ids.isEmpty()) {
              log.info("Cancellation of {} job(s) received", ids.size());
              runner.cancel(ids);
            }
          }
        } catch (SQLException | RuntimeException e) {
          if (!running) {
            break;
          }
          metrics.loopError(LOOP_NAME);
          long waitMs = backoff.next();
          log.warn(
              "Cancellation listener lost the database, reconnecting in {} ms: {}",
              waitMs,
              e.toString());
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

  /**
   * Adds the cancellations of one notification payload ({@code <jobId>:<runSeq>,…}) to {@code
   * into}. A malformed entry (anyone may NOTIFY the channel) is skipped with a WARN naming it,
   * escaped and capped; the other entries and notifications still count.
   *
   * @return how many entries were skipped
   */
  static int parse(String payload, Map<UUID, Long> into) {
    if (payload == null || payload.isBlank()) {
      log.warn("Ignoring an empty cancellation notification");
      return 1;
    }
    int skipped = 0;
    for (String entry : payload.split(",", -1)) {
      int colon = entry.indexOf(':');
      try {
        if (colon <= 0) {
          throw new IllegalArgumentException("no ':'");
        }
        UUID id = UUID.fromString(entry.substring(0, colon).trim());
        long runSeq = Long.parseLong(entry.substring(colon + 1).trim());
        into.put(id, runSeq);
      } catch (IllegalArgumentException e) {
        skipped++;
        log.warn(
            "Ignoring a malformed cancellation '{}' (expected <job id>:<run seq>): {}",
            FerryConfig.echo(entry),
            FerryConfig.echo(e.getMessage()));
      }
    }
    return skipped;
  }

  @Override
  public void close() {
    running = false;
    try {
      stopped.await(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
