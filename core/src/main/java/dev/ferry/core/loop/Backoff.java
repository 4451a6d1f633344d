package dev.ferry.core.loop;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The one reconnect/retry backoff of every Ferry loop (dispatcher, consumer loops, periodic loops,
 * the worker's listeners, startup): waits double from {@code first} up to {@code max}, each with up
 * to 50 % random jitter so that replicas that failed together do not retry together; {@link
 * #reset()} after a success. Not thread-safe: one instance per loop thread.
 *
 * <pre>{@code
 * Backoff backoff = Backoff.standard();
 * while (running) {
 *   try { round(); backoff.reset(); }
 *   catch (Exception e) {
 *     long ms = backoff.next();
 *     log.warn("... retrying in {} ms", ms, e);
 *     if (Backoff.await(stopped, ms)) break;
 *   }
 * }
 * }</pre>
 */
public final class Backoff {
  /** 100 ms doubling to 5 s: what the loops use unless they say otherwise. */
  public static final Duration DEFAULT_FIRST = Duration.ofMillis(100);

  public static final Duration DEFAULT_MAX = Duration.ofSeconds(5);

  private final long firstMs;
  private final long maxMs;
  private long currentMs;

  public Backoff(Duration first, Duration max) {
    if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < first <= max, got " + first + ", " + max);
    }
    this.firstMs = first.toMillis();
    this.maxMs = max.toMillis();
    this.currentMs = firstMs;
  }

  /** 100 ms doubling to 5 s. */
  public static Backoff standard() {
    return new Backoff(DEFAULT_FIRST, DEFAULT_MAX);
  }

  /** The next wait in ms (the current step plus jitter); the step after it doubles. */
  public long next() {
    long wait = currentMs + ThreadLocalRandom.current().nextLong(currentMs / 2 + 1);
    currentMs = Math.min(currentMs * 2, maxMs);
    return wait;
  }

  /** The step the next {@link #next()} starts from, without jitter (for logs and tests). */
  public long currentStepMs() {
    return currentMs;
  }

  /** Back to the first step, after a success. */
  public void reset() {
    currentMs = firstMs;
  }

  /**
   * Waits {@code ms}, cut short when {@code stopped} counts down.
   *
   * @return true if the loop was stopped (the caller should end)
   */
  public static boolean await(CountDownLatch stopped, long ms) throws InterruptedException {
    return stopped.await(ms, TimeUnit.MILLISECONDS);
  }
}
