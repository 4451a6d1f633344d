package dev.ferry.orchestrator.loop;

import dev.ferry.core.loop.Backoff;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A background round on its own daemon thread: runs the round, then waits {@code interval} (cut
 * short by {@link #close()}). A failed round is reported and retried after a {@link Backoff} that
 * doubles from {@code firstBackoff} up to {@code maxBackoff}, with up to 50 % random jitter so that
 * orchestrators which failed together do not retry together; a successful round resets it.
 */
public final class PeriodicLoop implements AutoCloseable {
  /** One round of work; {@code running} turns false once the loop is being closed. */
  @FunctionalInterface
  public interface Round {
    void run(BooleanSupplier running) throws Exception;
  }

  /** Told of each failed round and how long the loop waits before the next one. */
  @FunctionalInterface
  public interface OnFailure {
    void failed(Exception e, long retryInMs);
  }

  /** How long {@link #close()} waits for a round in progress to finish: 15 s. */
  private static final long CLOSE_TIMEOUT_MS = 15_000;

  private final Duration interval;

  /** Owned by the loop's thread. */
  private final Backoff backoff;

  private final boolean staggerStart;
  private final Round round;
  private final OnFailure onFailure;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;

  /**
   * @param staggerStart wait up to a tenth of {@code interval} before the first round, so that
   *     orchestrators started together do not all try at the same moment
   */
  public PeriodicLoop(
      String threadName,
      Duration interval,
      Duration firstBackoff,
      Duration maxBackoff,
      boolean staggerStart,
      Round round,
      OnFailure onFailure) {
    this.interval = interval;
    this.backoff = new Backoff(firstBackoff, maxBackoff);
    this.staggerStart = staggerStart;
    this.round = round;
    this.onFailure = onFailure;
    this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
  }

  public void start() {
    thread.start();
  }

  public boolean isAlive() {
    return thread.isAlive();
  }

  private void run() {
    try {
      if (staggerStart
          && stopped.await(
              ThreadLocalRandom.current().nextLong(interval.toMillis() / 10 + 1),
              TimeUnit.MILLISECONDS)) {
        return;
      }
      while (running) {
        long waitMs = interval.toMillis();
        try {
          round.run(() -> running);
          backoff.reset();
        } catch (Exception e) {
          if (!running) {
            break;
          }
          waitMs = backoff.next();
          onFailure.failed(e, waitMs);
        }
        // A real pause between rounds, cut short by close().
        if (Backoff.await(stopped, waitMs)) {
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      stopped.countDown();
    }
  }

  /** Stops the loop: a wait ends at once, a round in progress is finished first (up to 15 s). */
  @Override
  public void close() {
    running = false;
    stopped.countDown();
    try {
      thread.join(CLOSE_TIMEOUT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
