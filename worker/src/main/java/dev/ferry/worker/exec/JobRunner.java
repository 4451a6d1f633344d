package dev.ferry.worker.exec;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.Call;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;
import dev.ferry.worker.breaker.BreakerClient;
import dev.ferry.worker.handlers.HandlerRegistry;
import dev.ferry.worker.metrics.WorkerMetrics;
import dev.ferry.core.text.SafeText;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs attempts on virtual threads, off the poll thread. For each attempt it sends a start
 * notice, runs the handler under its timeout (interrupting it at the deadline and reporting
 * {@code TIMED_OUT}), turns whatever the handler returns or throws (any {@link Throwable}) into
 * exactly one outcome on {@code ferry.results}, and tells the poll thread when the outcome is
 * acknowledged and when the thread has ended. Thread-safe.
 */
public final class JobRunner {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  private final HandlerRegistry handlers;
  private final Producer<String, byte[]> producer;
  private final String resultsTopic;
  /** How long a timed-out handler gets to honour its interruption before it counts as stuck. */
  public static final Duration STUCK_GRACE = Duration.ofSeconds(5);
  private final java.util.concurrent.atomic.AtomicInteger stuck =
      new java.util.concurrent.atomic.AtomicInteger();
  private final String workerId;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final Duration startNoticeDelay;
  /** Attempts running now, by job id: where to deliver a cancellation. */
  private final Map<UUID, Running> running = new ConcurrentHashMap<>();
  /**
   * Jobs cancelled recently (bounded), with the run that was cancelled, so that work items of
   * that run (or an earlier one) are skipped; a later re-drive has a higher run and runs.
   */
  private final Map<UUID, Long> cancelled =
      Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<UUID, Long> eldest) {
          return size() > 100_000;
        }
      });

  private record Running(Thread thread, long run, AtomicBoolean cancelled) {}

  private final BreakerClient breakers;
  private final Function<String, BreakerConfig> breakerConfigs;
  private final WorkerMetrics metrics;
  private final Limits limits;
  /** Validates spawned children; built once (it holds a configured JSON parser). */
  private final dev.ferry.core.json.SubmissionCodec spawnCodec;

  /**
   * What a worker checks before it reports an outcome, so that nothing it sends can be refused
   * by the broker or the orchestrator over and over.
   *
   * @param resultMaxBytes largest encoded success result ({@code result.max.bytes}); must stay
   *     below the producer's {@code max.request.size} with room for the report around it
   * @param spawn the limits spawned children are validated with ({@code submit.max.*}, the
   *     orchestrator's own)
   */
  public record Limits(int resultMaxBytes, SubmissionLimits spawn) {
    /** {@code result.max.bytes} 900000 and the default submission limits. */
    public static final Limits DEFAULT = new Limits(900_000, SubmissionLimits.DEFAULT);

    public Limits {
      if (resultMaxBytes < 1) {
        throw new IllegalArgumentException("resultMaxBytes must be >= 1 but was " + resultMaxBytes);
      }
      if (spawn == null) {
        throw new IllegalArgumentException("spawn limits must not be null");
      }
    }
  }

  /** The breaker side of one attempt: its dependency and whether it is a trial call. */
  private static final class CallInfo {
    volatile String dependency;
    volatile BreakerClient.Decision.Proceed admitted;
    volatile boolean called;
    volatile long calledAtNanos;
  }

  /**
   * @param breakers the shared circuit breakers, or null to call dependencies unguarded
   */
  public JobRunner(
      HandlerRegistry handlers, Producer<String, byte[]> producer, String resultsTopic,
      String workerId, ScheduledExecutorService timer, Clock clock, BreakerClient breakers,
      Function<String, BreakerConfig> breakerConfigs, Duration startNoticeDelay,
      WorkerMetrics metrics, Limits limits) {
    this.limits = limits;
    this.spawnCodec = new dev.ferry.core.json.SubmissionCodec(limits.spawn());
    this.metrics = metrics;
    this.startNoticeDelay = startNoticeDelay;
    this.breakers = breakers;
    this.breakerConfigs = breakerConfigs;
    this.handlers = handlers;
    this.producer = producer;
    this.resultsTopic = resultsTopic;
    this.workerId = workerId;
    this.timer = timer;
    this.clock = clock;
  }

  /**
   * Starts an attempt on a new virtual thread.
   *
   * @param ticket identifies the attempt in the completions handed to {@code done}
   * @param done receives {@link Completion}s; must be thread-safe and non-blocking
   */
  public void start(WorkItem item, Object ticket, Consumer<Completion> done) {
    start(item, ticket, done, false);
  }

  /**
   * @param awaitStart wait until the start notice is acknowledged before running the handler
   *     (for possibly redelivered items: if the handler kills this JVM, the job is known to have
   *     been RUNNING here, so the rescuer counts the crash)
   */
  public void start(WorkItem item, Object ticket, Consumer<Completion> done, boolean awaitStart) {
    Thread.ofVirtual()
        .name("ferry-job-" + item.id() + "-" + item.attempt())
        .start(() -> run(item, ticket, done, awaitStart));
  }

  /**
   * Cancels jobs: running attempts are interrupted and report a non-retryable "cancelled"
   * outcome; work items that arrive later are not started.
   */
  public void cancel(Map<UUID, Long> runsById) {
    for (Map.Entry<UUID, Long> e : runsById.entrySet()) {
      UUID id = e.getKey();
      cancelled.merge(id, e.getValue(), Math::max);
      Running r = running.get(id);
      if (r != null && r.run() <= e.getValue() && r.cancelled().compareAndSet(false, true)) {
        log.info("Interrupting cancelled job {}", id);
        r.thread().interrupt();
      }
    }
  }

  /**
   * Hands a job back without running it (no attempt used): it runs again after a short,
   * jittered delay. Reports on {@code done} when the outcome is acknowledged.
   */
  public void defer(WorkItem item, Object ticket, Consumer<Completion> done, String reason) {
    Instant now = clock.instant();
    Instant until = now.plusMillis(500 + java.util.concurrent.ThreadLocalRandom.current().nextLong(500));
    report(item, now, new Outcome.Deferred(until, reason), ticket, done, null);
  }

  /** The dependency (breaker key) of a work item: its own, or what its handler derives. */
  public String dependencyOf(WorkItem item) {
    if (item.dependency() != null) {
      return item.dependency();
    }
    JobHandler h = handlers.get(item.type());
    try {
      return h == null ? null : h.dependency(item.payload());
    } catch (RuntimeException e) {
      log.warn("Handler {} failed to derive a dependency: {}", item.type(), e.toString());
      return null;
    }
  }

  /** The per-worker concurrency limit of a dependency (0 = none). */
  public int bulkhead(String dependency) {
    return dependency == null ? 0 : breakerConfigs.apply(dependency).bulkhead();
  }

  private void run(WorkItem item, Object ticket, Consumer<Completion> done, boolean awaitStart) {
    CallInfo call = new CallInfo();
    Instant started = clock.instant();
    AtomicBoolean reported = new AtomicBoolean();
    Long cancelledRun = cancelled.get(item.id());
    AtomicBoolean isCancelled =
        new AtomicBoolean(cancelledRun != null && item.run() <= cancelledRun);
    Running me = new Running(Thread.currentThread(), item.run(), isCancelled);
    running.put(item.id(), me);
    MDC.put("jobId", item.id().toString());
    MDC.put("type", String.valueOf(item.type()));
    MDC.put("attempt", String.valueOf(item.attempt()));
    if (item.traceparent() != null) {
      MDC.put(TraceContext.MDC_TRACE_ID, TraceContext.traceId(item.traceparent()));
    }
    ScheduledFuture<?> timeout = null;
    ScheduledFuture<?> delayedNotice = null;
    AtomicBoolean slotFreed = new AtomicBoolean();
    try {
      AttemptReport startNotice =
          AttemptReport.started(item.id(), item.attempt(), item.run(), workerId, started);
      if (awaitStart || startNoticeDelay.isZero()) {
        Future<RecordMetadata> notice = send(startNotice, item.traceparent(), null);
        if (awaitStart) {
          awaitNotice(item, notice);
        }
      } else {
        // Most jobs finish sooner: their outcome carries the start time, and one record (and
        // one row update) per job is saved. A notice that races with the outcome is ignored by
        // the orchestrator (the job is no longer QUEUED for this run).
        delayedNotice = timer.schedule(() -> {
          if (!reported.get()) {
            var unused = send(startNotice, item.traceparent(), null);
          }
        }, startNoticeDelay.toMillis(), TimeUnit.MILLISECONDS);
      }
      JobHandler handler = handlers.get(item.type());
      Outcome outcome;
      if (isCancelled.get()) {
        outcome = new Outcome.Failed("cancelled before it started", false);
      } else if (handler == null) {
        outcome =
            new Outcome.Failed(
                "unknown job type '" + item.type() + "' (this worker knows: "
                    + String.join(", ", handlers.types()) + ")",
                false);
      } else if (admit(item, call) instanceof BreakerClient.Decision.Defer d) {
        outcome = new Outcome.Deferred(d.until(), d.reason());
      } else {
        long timeoutMs = item.timeoutMs() > 0 ? item.timeoutMs() : 30_000;
        Thread self = Thread.currentThread();
        timeout =
            timer.schedule(
                () -> {
                  if (reported.compareAndSet(false, true)) {
                    log.warn("Job {} attempt {} timed out after {} ms", item.id(), item.attempt(),
                        timeoutMs);
                    report(item, started, new Outcome.TimedOut("timed out after " + timeoutMs + " ms"), ticket, done, call);
                    self.interrupt();
                    var unused = timer.schedule(
                        () -> abandonIfStuck(item, me, slotFreed, ticket, done),
                        STUCK_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                  }
                },
                timeoutMs,
                TimeUnit.MILLISECONDS);
        call.calledAtNanos = System.nanoTime();
        call.called = true;
        outcome = invoke(handler, item, started.plusMillis(timeoutMs), isCancelled);
        timeout.cancel(false);
      }
      if (reported.compareAndSet(false, true)) {
        report(item, started, outcome, ticket, done, isCancelled.get() ? null : call);
      }
    } catch (Throwable t) {
      // Only reachable if reporting itself failed (e.g. serialization); still record it.
      log.error("Job {} attempt {}: internal error", item.id(), item.attempt(), t);
      if (reported.compareAndSet(false, true)) {
        report(item, started, new Outcome.Failed("internal worker error: " + t, true), ticket, done, null);
      }
    } finally {
      if (timeout != null) {
        timeout.cancel(false);
      }
      if (delayedNotice != null) {
        delayedNotice.cancel(false);
      }
      MDC.clear();
      running.remove(item.id(), me);
      if (slotFreed.compareAndSet(false, true)) {
        done.accept(new Completion.SlotFreed(ticket));
      } else {
        int left = stuck.decrementAndGet();
        log.info("Job {} attempt {}: its handler returned at last ({} still stuck)", item.id(),
            item.attempt(), left);
      }
    }
  }

  /**
   * A handler still running {@link #STUCK_GRACE} after its timeout interrupted it ignores
   * interruption: its slot is given back so that it does not block the admission of other jobs,
   * and it is counted as stuck until it returns (its virtual thread is left to finish).
   */
  private void abandonIfStuck(WorkItem item, Running me, AtomicBoolean slotFreed, Object ticket,
      Consumer<Completion> done) {
    if (running.get(item.id()) == me && slotFreed.compareAndSet(false, true)) {
      int n = stuck.incrementAndGet();
      log.warn("Job {} attempt {} ignores interruption {} ms after its timeout; its slot is"
          + " freed and its thread left running ({} stuck handlers)", item.id(), item.attempt(),
          STUCK_GRACE.toMillis(), n);
      done.accept(new Completion.SlotFreed(ticket));
    }
  }

  /** Handlers that timed out, ignored interruption and have not returned yet. */
  public int stuckHandlers() {
    return stuck.get();
  }

  private static void awaitNotice(WorkItem item, Future<RecordMetadata> notice)
      throws InterruptedException {
    try {
      notice.get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException e) {
      log.warn("Start notice of job {} not acknowledged ({}); running it anyway", item.id(),
          e.toString());
    }
  }

  private Outcome invoke(
      JobHandler handler, WorkItem item, Instant deadline, AtomicBoolean isCancelled) {
    JobContext ctx =
        new JobContext(item.id(), item.attempt(), item.type(), item.payload(), item.dependency(),
            deadline, isCancelled::get, item.traceparent());
    try {
      JobResult r = handler.handle(ctx);
      if (r == null) {
        return new Outcome.Failed("handler returned null instead of a JobResult", true);
      }
      if (isCancelled.get()) {
        return new Outcome.Failed("cancelled while running", false);
      }
      return switch (r) {
        case JobResult.Success s -> succeeded(s.result());
        case JobResult.Retry f -> new Outcome.Failed(f.error(), true);
        case JobResult.Fail f -> new Outcome.Failed(f.error(), false);
        case JobResult.Snooze s -> new Outcome.Deferred(clock.instant().plus(s.delay()), "snoozed for " + s.delay().toMillis() + " ms");
        case JobResult.Spawn s -> spawned(s);
      };
    } catch (NonRetryableException e) {
      return new Outcome.Failed(describe(e), false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (isCancelled.get()) {
        return new Outcome.Failed("cancelled while running", false);
      }
      return new Outcome.Failed("interrupted: " + describe(e), true);
    } catch (Throwable t) {
      if (isCancelled.get()) {
        return new Outcome.Failed("cancelled while running: " + describe(t), false);
      }
      log.warn("Job {} attempt {} failed: {}", item.id(), item.attempt(), t.toString());
      return new Outcome.Failed(describe(t), true);
    }
  }

  /**
   * A success, unless its result is over {@code result.max.bytes}: such a report could never be
   * sent (or stored), so the attempt ends non-retryable instead.
   */
  private Outcome succeeded(JsonNode result) {
    int size = result == null ? 4 : FerryJson.bytes(result).length;
    if (size > limits.resultMaxBytes()) {
      return new Outcome.Failed("result too large: " + size + " bytes over result.max.bytes ("
          + limits.resultMaxBytes() + ")", false);
    }
    return new Outcome.Succeeded(result);
  }

  /**
   * Validates spawned children like a submission's, with the configured {@code submit.max.*}
   * limits, so the orchestrator can trust them.
   */
  private Outcome spawned(JobResult.Spawn s) {
    com.fasterxml.jackson.databind.node.ArrayNode arr = dev.ferry.core.json.FerryJson.MAPPER.createArrayNode();
    s.children().forEach(arr::add);
    com.fasterxml.jackson.databind.node.ObjectNode probe = dev.ferry.core.json.FerryJson.object();
    probe.set("children", arr);
    try {
      spawnCodec.decode(dev.ferry.core.json.FerryJson.bytes(probe));
    } catch (dev.ferry.core.json.InvalidSubmissionException e) {
      return new Outcome.Failed("spawned children are invalid: " + e.getMessage(), false);
    }
    return new Outcome.Spawned(arr);
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
  }

  /** Asks the breaker whether to call; remembers the dependency and admission for the report. */
  private BreakerClient.Decision admit(WorkItem item, CallInfo call) {
    if (breakers == null) {
      return BreakerClient.Decision.Proceed.unguarded();
    }
    String dep = dependencyOf(item);
    if (dep == null) {
      return BreakerClient.Decision.Proceed.unguarded();
    }
    call.dependency = dep;
    BreakerClient.Decision d = breakers.admit(dep);
    if (d instanceof BreakerClient.Decision.Proceed p) {
      call.admitted = p;
    }
    return d;
  }

  /** Counts a finished call for the breaker: failures are retryable failures and timeouts. */
  private void recordCall(Outcome outcome, CallInfo call) {
    if (call == null || !call.called || call.dependency == null || call.admitted == null
        || breakers == null) {
      return;
    }
    long ms = (System.nanoTime() - call.calledAtNanos) / 1_000_000;
    boolean slow = ms >= breakerConfigs.apply(call.dependency).slowCallMs();
    Call c = switch (outcome) {
      case Outcome.Succeeded s -> new Call(false, slow);
      case Outcome.Spawned s -> new Call(false, slow);
      case Outcome.Failed f -> new Call(f.retryable(), slow);
      case Outcome.TimedOut t -> new Call(true, true);
      case Outcome.Deferred d -> null;
    };
    if (c != null) {
      breakers.record(call.dependency, c, call.admitted);
    }
  }

  private void report(
      WorkItem item, Instant started, Outcome outcome, Object ticket, Consumer<Completion> done,
      CallInfo call) {
    recordCall(outcome, call);
    Instant finished = clock.instant();
    metrics.attempt(item.type(), outcome, Duration.between(started, finished));
    AttemptReport r =
        new AttemptReport(
            item.id(), item.attempt(), item.run(), workerId, started, finished, outcome);
    var unused = send(r, item.traceparent(),
        () -> done.accept(new Completion.OutcomeStored(ticket)));
  }

  /**
   * Sends a report. An outcome whose send fails transiently ({@link RetriableException}, which
   * includes timeouts) is re-sent every second until it is acknowledged; one the broker can
   * never take (too large, invalid, ...) is replaced once by a small non-retryable failure
   * {@code result could not be sent: <reason>}, which is then sent the same way.
   */
  private Future<RecordMetadata> send(AttemptReport r, String traceparent, Runnable onAck) {
    return send(r, traceparent, onAck, false);
  }

  /** @param replacement whether {@code r} already replaces an unsendable outcome */
  private Future<RecordMetadata> send(
      AttemptReport r, String traceparent, Runnable onAck, boolean replacement) {
    byte[] value = WireCodec.encode(r);
    ProducerRecord<String, byte[]> rec =
        new ProducerRecord<>(resultsTopic, r.jobId().toString(), value);
    TraceContext.toHeaders(rec.headers(), traceparent);
    return producer.send(
        rec,
        (md, e) -> {
          if (e == null) {
            if (onAck != null) {
              onAck.run();
            }
          } else if (onAck != null) {
            AttemptReport next = r;
            long delayMs = Duration.ofSeconds(1).toMillis();
            boolean replace = !(e instanceof RetriableException) && !replacement;
            if (replace) {
              log.error("Outcome of job {} attempt {} cannot be sent ({}); reporting a "
                  + "non-retryable failure instead", r.jobId(), r.attempt(), e.toString());
              next = new AttemptReport(r.jobId(), r.attempt(), r.run(), r.workerId(),
                  r.startedAt(), r.finishedAt(),
                  new Outcome.Failed("result could not be sent: " + SafeText.echo(e.toString()),
                      false));
              delayMs = 0;
            } else {
              log.warn("Sending outcome of job {} attempt {} failed, retrying in 1 s: {}",
                  r.jobId(), r.attempt(), e.toString());
            }
            AttemptReport toSend = next;
            // Off the producer's callback thread: send() may block.
            var retry = timer.schedule(() -> {
                  var unused = send(toSend, traceparent, onAck, replacement || replace);
                }, delayMs, TimeUnit.MILLISECONDS);
          } else {
            log.warn("Start notice of job {} attempt {} not sent: {}", r.jobId(), r.attempt(),
                e.toString());
          }
        });
  }
}
