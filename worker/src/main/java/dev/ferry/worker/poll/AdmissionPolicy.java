package dev.ferry.worker.poll;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

/**
 * Which fetched jobs may start now, and when to stop fetching. The rules, in one place:
 *
 * <ul>
 *   <li><b>Global limit</b>: at most {@code concurrency} handler threads alive, and no start while
 *       {@code bufferLimit} outcomes wait for Kafka's acknowledgement.
 *   <li><b>Bulkhead</b>: at most {@code bulkhead(dependency)} jobs of a dependency at once on this
 *       worker (0 = no limit of its own); a job whose bulkhead is full waits while others behind it
 *       start.
 *   <li><b>Isolation</b>: a job that was running when a worker died ({@code crashes > 0}) starts
 *       only when nothing else is running or unreported, and nothing starts until it has reported:
 *       if it kills this JVM too, the crash is pinned on it alone.
 *   <li><b>Deferral</b>: when slots are free but the buffer is full of jobs waiting for their
 *       bulkhead, those are handed back (deferred, no attempt used) rather than block their
 *       partitions.
 *   <li><b>Backpressure</b>: fetching pauses while draining, while all slots are busy, while the
 *       buffer plus unacknowledged outcomes reach {@code bufferLimit}, or while a redelivery check
 *       is out.
 * </ul>
 *
 * <p>Pure bookkeeping: no Kafka, no database, no clock. The poll thread decides and records starts
 * and ends; the counts are safe to read from any thread (gauges).
 */
final class AdmissionPolicy {
  /** What to do with the next buffered job. */
  enum Verdict {
    /** Start it. */
    START,
    /** Start it alone ({@link #startedAlone()}) and start nothing after it. */
    START_ALONE,
    /** Leave it in the buffer (its bulkhead is full) and look at the next one. */
    WAIT,
    /** Leave it and everything behind it in the buffer for now. */
    STOP
  }

  private final int concurrency;
  private final int bufferLimit;
  private final ToIntFunction<String> bulkheads;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  /** Jobs running per dependency (written by the poll thread, read by gauges). */
  private final Map<String, Integer> inFlightByDependency = new ConcurrentHashMap<>();

  /** Whether a job that crashed a worker before runs alone now. Poll thread only. */
  private boolean alone;

  /**
   * @param concurrency most handler threads alive at once ({@code worker.concurrency})
   * @param bufferLimit most records fetched and not started, plus outcomes not acknowledged
   * @param bulkheads a dependency's per-worker limit (0 = none); never called with null
   */
  AdmissionPolicy(int concurrency, int bufferLimit, ToIntFunction<String> bulkheads) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be >= 1 but was " + concurrency);
    }
    if (bufferLimit < 1) {
      throw new IllegalArgumentException("bufferLimit must be >= 1 but was " + bufferLimit);
    }
    this.concurrency = concurrency;
    this.bufferLimit = bufferLimit;
    this.bulkheads = bulkheads;
  }

  /**
   * Whether any job may start now: no job runs alone, a slot is free, and fewer than {@code
   * bufferLimit} outcomes wait for their acknowledgement.
   */
  boolean mayStart(int unacknowledged) {
    return !alone && inFlight.get() < concurrency && unacknowledged < bufferLimit;
  }

  /**
   * The verdict on the next buffered job, once {@link #mayStart} said yes.
   *
   * @param crashes how many workers died running it before
   * @param awaitingOutcome started or deferred jobs whose outcome is not acknowledged yet
   */
  Verdict decide(String dependency, int crashes, int awaitingOutcome) {
    if (crashes > 0) {
      return inFlight.get() > 0 || awaitingOutcome > 0 ? Verdict.STOP : Verdict.START_ALONE;
    }
    return bulkheadFull(dependency) ? Verdict.WAIT : Verdict.START;
  }

  /** Whether {@code dependency} has as many jobs running here as its bulkhead allows. */
  boolean bulkheadFull(String dependency) {
    int limit = dependency == null ? 0 : bulkheads.applyAsInt(dependency);
    return limit > 0 && inFlight(dependency) >= limit;
  }

  /**
   * Whether the jobs waiting for their bulkhead should be handed back: slots are free, yet the
   * buffer is full, so nothing else can be fetched behind them.
   */
  boolean shouldDeferWaiting(int buffered) {
    return inFlight.get() < concurrency && buffered >= bufferLimit;
  }

  /**
   * Whether fetching must pause (see the class comment).
   *
   * @param checking whether a redelivery check is out
   */
  boolean mustPause(boolean draining, int buffered, int unacknowledged, boolean checking) {
    return draining
        || inFlight.get() >= concurrency
        || buffered + unacknowledged >= bufferLimit
        || checking;
  }

  /**
   * Whether fetching urgent work items must pause: not while slots are busy (an urgent job takes
   * the next free one), only while draining, while its own buffer plus unacknowledged outcomes
   * reach {@code bufferLimit}, or while a redelivery check is out.
   */
  boolean mustPauseUrgent(
      boolean draining, int urgentBuffered, int unacknowledged, boolean checking) {
    return draining || urgentBuffered + unacknowledged >= bufferLimit || checking;
  }

  /**
   * A job of {@code dependency} (or null) started.
   *
   * @return whether it is the only one of its dependency running now (its gauges may be new)
   */
  boolean started(String dependency) {
    int n = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(n, Math::max);
    return dependency != null && inFlightByDependency.merge(dependency, 1, Integer::sum) == 1;
  }

  /** The job {@link Verdict#START_ALONE} named started; nothing starts until it reports. */
  void startedAlone() {
    alone = true;
    int n = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(n, Math::max);
  }

  /** A started job's thread ended; {@code dependency} as given to {@link #started}. */
  void ended(String dependency) {
    inFlight.decrementAndGet();
    if (dependency != null) {
      inFlightByDependency.computeIfPresent(dependency, (k, v) -> v <= 1 ? null : v - 1);
    }
  }

  /** A job's outcome was acknowledged; when it ran alone, others may start again. */
  void reported(boolean ranAlone) {
    if (ranAlone) {
      alone = false;
    }
  }

  /**
   * Finished jobs whose outcome is not acknowledged yet, given how many started or deferred jobs
   * await theirs.
   */
  int unacknowledged(int awaitingOutcome) {
    return Math.max(0, awaitingOutcome - inFlight.get());
  }

  /** Whether a job runs alone now. */
  boolean isolating() {
    return alone;
  }

  /** Jobs whose handler thread is alive. */
  int inFlight() {
    return inFlight.get();
  }

  /** Jobs of a dependency running now. */
  int inFlight(String dependency) {
    return inFlightByDependency.getOrDefault(dependency, 0);
  }

  /** The most handler threads ever alive at once. */
  int maxInFlight() {
    return maxInFlight.get();
  }

  /** The global limit. */
  int concurrency() {
    return concurrency;
  }
}
