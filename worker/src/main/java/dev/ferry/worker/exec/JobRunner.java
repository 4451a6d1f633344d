package dev.ferry.worker.exec;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.breaker.BreakerClient;
import dev.ferry.worker.handlers.HandlerRegistry;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs attempts on virtual threads, off the poll thread: the lifecycle of one attempt. For each
 * attempt it sends a start notice, asks the breaker ({@link BreakerGuard}), runs the handler
 * ({@link HandlerInvocation}) under its timeout (interrupting it at the deadline and reporting
 * {@code TIMED_OUT}), reports exactly one outcome ({@link AttemptReporter}), and tells the starter
 * when the outcome is acknowledged and when the thread has ended ({@link Completion}).
 * Cancellations reach running attempts through a {@link CancellationRegistry}. Thread-safe.
 */
public final class JobRunner {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  /** How long a timed-out handler gets to honour its interruption before it counts as stuck. */
  public static final Duration STUCK_GRACE = Duration.ofSeconds(5);

  /** The timeout of an attempt whose work item names none: 30 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** A job handed back by {@link #defer} runs again after this long, plus jitter: 500 ms. */
  static final Duration DEFER_DELAY = Duration.ofMillis(500);

  /** The jitter added to {@link #DEFER_DELAY}: up to 500 ms. */
  static final Duration DEFER_JITTER = Duration.ofMillis(500);

  /**
   * What a worker checks before it reports an outcome, so that nothing it sends can be refused by
   * the broker or the orchestrator over and over.
   *
   * @param resultMaxBytes largest encoded success result ({@code result.max.bytes}); must stay
   *     below the producer's {@code max.request.size} with room for the report around it
   * @param spawn the limits spawned children are validated with ({@code submit.max.*}, the
   *     orchestrator's own)
   */
  public record Limits(int resultMaxBytes, SubmissionLimits spawn) {
    public Limits {
      if (resultMaxBytes < 1) {
        throw new IllegalArgumentException("resultMaxBytes must be >= 1 but was " + resultMaxBytes);
      }
      if (spawn == null) {
        throw new IllegalArgumentException("spawn limits must not be null");
      }
    }
  }

  private final HandlerRegistry handlers;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final Duration startNoticeDelay;
  private final AtomicInteger stuck = new AtomicInteger();
  private final CancellationRegistry cancellations = new CancellationRegistry();
  private final BreakerGuard guard;
  private final HandlerInvocation invocation;
  private final AttemptReporter reporter;

  /**
   * @param timer runs timeouts, delayed start notices and re-sends
   * @param breakers the shared circuit breakers, or null to call dependencies unguarded
   * @param startNoticeDelay how long an attempt runs before its start notice is sent (zero: at
   *     once); most attempts end sooner and their outcome carries the start time
   */
  public JobRunner(
      HandlerRegistry handlers,
      Producer<String, byte[]> producer,
      String resultsTopic,
      String workerId,
      ScheduledExecutorService timer,
      Clock clock,
      BreakerClient breakers,
      Function<String, BreakerConfig> breakerConfigs,
      Duration startNoticeDelay,
      WorkerMetrics metrics,
      Limits limits) {
    this.handlers = handlers;
    this.timer = timer;
    this.clock = clock;
    this.startNoticeDelay = startNoticeDelay;
    this.guard = new BreakerGuard(handlers, breakers, breakerConfigs);
    this.invocation = new HandlerInvocation(clock, limits);
    this.reporter = new AttemptReporter(producer, resultsTopic, workerId, timer, clock, metrics);
  }

  /**
   * Starts an attempt on a new virtual thread.
   *
   * @param ticket identifies the attempt in the completions handed to {@code done}
   * @param done receives {@link Completion}s; must be thread-safe and non-blocking
   * @param awaitStart wait until the start notice is acknowledged before running the handler (for
   *     possibly redelivered items: if the handler kills this JVM, the job is known to have been
   *     RUNNING here, so the rescuer counts the crash)
   */
  public <T> void start(
      WorkItem item, T ticket, Consumer<? super Completion<T>> done, boolean awaitStart) {
    start(item, ticket, done, awaitStart, null);
  }

  /**
   * As {@link #start(WorkItem, Object, Consumer, boolean)}; {@code beforeCall} (or null) runs on
   * the attempt's thread right before its handler is called (a rate limit's start permit reports
   * its call time).
   */
  public <T> void start(
      WorkItem item,
      T ticket,
      Consumer<? super Completion<T>> done,
      boolean awaitStart,
      Runnable beforeCall) {
    Thread.ofVirtual()
        .name("ferry-job-" + item.id() + "-" + item.attempt())
        .start(() -> new Attempt<>(item, ticket, done, beforeCall).run(awaitStart));
  }

  /**
   * Cancels jobs: running attempts are interrupted and report a non-retryable "cancelled" outcome;
   * work items that arrive later are not started.
   */
  public void cancel(Map<UUID, Long> runsById) {
    cancellations.cancel(runsById);
  }

  /**
   * Hands a job back without running it (no attempt used): it runs again after a short, jittered
   * delay ({@link #DEFER_DELAY} plus up to {@link #DEFER_JITTER}). Reports on {@code done} when the
   * outcome is acknowledged.
   */
  public <T> void defer(
      WorkItem item, T ticket, Consumer<? super Completion<T>> done, String reason) {
    Instant now = clock.instant();
    Instant until =
        now.plusMillis(
            DEFER_DELAY.toMillis() + ThreadLocalRandom.current().nextLong(DEFER_JITTER.toMillis()));
    reporter.outcome(
        item,
        now,
        new Outcome.Deferred(until, reason),
        () -> done.accept(new Completion.OutcomeStored<>(ticket)));
  }

  /** The dependency (breaker key) of a work item: its own, or what its handler derives. */
  public String dependencyOf(WorkItem item) {
    return guard.dependencyOf(item);
  }

  /** The per-worker concurrency limit of a dependency (0 = none). */
  public int bulkhead(String dependency) {
    return guard.bulkhead(dependency);
  }

  /** Handlers that timed out, ignored interruption and have not returned yet. */
  public int stuckHandlers() {
    return stuck.get();
  }

  /** One attempt, from its thread's start to its end. */
  private final class Attempt<T> {
    private final WorkItem item;
    private final T ticket;
    private final Consumer<? super Completion<T>> done;
    private final Instant started = clock.instant();
    private final BreakerGuard.GuardedCall call = new BreakerGuard.GuardedCall();

    /** Whether the outcome was handed to the reporter (by the handler's end or the timeout). */
    private final AtomicBoolean reported = new AtomicBoolean();

    /** Whether the slot was given back (by the thread's end, or as stuck). */
    private final AtomicBoolean slotFreed = new AtomicBoolean();

    private CancellationRegistry.Running me;

    private final Runnable beforeCall;

    Attempt(WorkItem item, T ticket, Consumer<? super Completion<T>> done, Runnable beforeCall) {
      this.item = item;
      this.ticket = ticket;
      this.done = done;
      this.beforeCall = beforeCall;
    }

    void run(boolean awaitStart) {
      me = cancellations.register(item);
      MDC.put("jobId", item.id().toString());
      MDC.put("type", String.valueOf(item.type()));
      MDC.put("attempt", String.valueOf(item.attempt()));
      if (item.traceparent() != null) {
        MDC.put(TraceContext.MDC_TRACE_ID, TraceContext.traceId(item.traceparent()));
      }
      ScheduledFuture<?> timeout = null;
      ScheduledFuture<?> delayedNotice = null;
      try {
        if (awaitStart || startNoticeDelay.isZero()) {
          reporter.startNotice(item, started, awaitStart);
        } else {
          // Most jobs finish sooner: their outcome carries the start time, and one record (and
          // one row update) per job is saved. A notice that races with the outcome is ignored
          // by the orchestrator (the job is no longer QUEUED for this run).
          delayedNotice =
              timer.schedule(
                  this::delayedStartNotice, startNoticeDelay.toMillis(), TimeUnit.MILLISECONDS);
        }
        JobHandler handler = handlers.get(item.type());
        Outcome outcome;
        if (me.isCancelled()) {
          outcome = new Outcome.Failed("cancelled before it started", false);
        } else if (handler == null) {
          outcome =
              new Outcome.Failed(
                  "unknown job type '"
                      + item.type()
                      + "' (this worker knows: "
                      + String.join(", ", handlers.types())
                      + ")",
                  false);
        } else if (guard.admit(item, call) instanceof BreakerClient.Decision.Defer d) {
          outcome = new Outcome.Deferred(d.until(), d.reason());
        } else {
          long timeoutMs = item.timeoutMs() > 0 ? item.timeoutMs() : DEFAULT_TIMEOUT.toMillis();
          Thread self = Thread.currentThread();
          timeout =
              timer.schedule(() -> timedOut(self, timeoutMs), timeoutMs, TimeUnit.MILLISECONDS);
          if (beforeCall != null) {
            beforeCall.run();
          }
          call.calling();
          outcome =
              invocation.invoke(handler, item, started.plusMillis(timeoutMs), me::isCancelled);
          timeout.cancel(false);
        }
        if (reported.compareAndSet(false, true)) {
          report(outcome, me.isCancelled() ? null : call);
        }
      } catch (Throwable t) {
        // Only reachable if reporting itself failed (e.g. serialization); still record it.
        log.error("Job {} attempt {}: internal error", item.id(), item.attempt(), t);
        if (reported.compareAndSet(false, true)) {
          report(new Outcome.Failed("internal worker error: " + t, true), null);
        }
      } finally {
        if (timeout != null) {
          timeout.cancel(false);
        }
        if (delayedNotice != null) {
          delayedNotice.cancel(false);
        }
        MDC.clear();
        cancellations.unregister(item.id(), me);
        if (slotFreed.compareAndSet(false, true)) {
          done.accept(new Completion.SlotFreed<>(ticket));
        } else {
          int left = stuck.decrementAndGet();
          log.info(
              "Job {} attempt {}: its handler returned at last ({} still stuck)",
              item.id(),
              item.attempt(),
              left);
        }
      }
    }

    private void delayedStartNotice() {
      if (reported.get()) {
        return;
      }
      try {
        reporter.startNotice(item, started, false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn(
            "Start notice of job {} attempt {} not sent: {}",
            item.id(),
            item.attempt(),
            e.toString());
      }
    }

    /** On the timer: reports TIMED_OUT, interrupts the handler, watches whether it stops. */
    @SuppressWarnings("FutureReturnValueIgnored") // abandonIfStuck cannot fail; nothing to await
    private void timedOut(Thread handlerThread, long timeoutMs) {
      if (!reported.compareAndSet(false, true)) {
        return;
      }
      log.warn("Job {} attempt {} timed out after {} ms", item.id(), item.attempt(), timeoutMs);
      report(new Outcome.TimedOut("timed out after " + timeoutMs + " ms"), call);
      handlerThread.interrupt();
      timer.schedule(this::abandonIfStuck, STUCK_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A handler still running {@link #STUCK_GRACE} after its timeout interrupted it ignores
     * interruption: its slot is given back so that it does not block the admission of other jobs,
     * and it is counted as stuck until it returns (its virtual thread is left to finish).
     */
    private void abandonIfStuck() {
      if (cancellations.isRunning(item.id(), me) && slotFreed.compareAndSet(false, true)) {
        int n = stuck.incrementAndGet();
        log.warn(
            "Job {} attempt {} ignores interruption {} ms after its timeout; its slot is"
                + " freed and its thread left running ({} stuck handlers)",
            item.id(),
            item.attempt(),
            STUCK_GRACE.toMillis(),
            n);
        done.accept(new Completion.SlotFreed<>(ticket));
      }
    }

    /** Counts the call for the breaker ({@code call} null: not counted) and sends the outcome. */
    private void report(Outcome outcome, BreakerGuard.GuardedCall counted) {
      guard.record(outcome, counted);
      reporter.outcome(
          item, started, outcome, () -> done.accept(new Completion.OutcomeStored<>(ticket)));
    }
  }
}
