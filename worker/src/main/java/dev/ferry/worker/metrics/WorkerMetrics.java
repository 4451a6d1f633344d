package dev.ferry.worker.metrics;

import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.config.Setting;
import dev.ferry.core.metrics.TagCap;
import dev.ferry.core.model.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * A worker's own meters: attempt durations per type and outcome, the poll loop's interval,
 * in-flight jobs and limits per worker and per dependency, and each dependency's breaker state and
 * transitions. Gauges read the worker's state when scraped; nothing is counted twice.
 *
 * <p>Job types and dependencies come from users, so their tag values are capped ({@code
 * metrics.max.tags}, see {@link TagCap}): beyond the cap, attempts and transitions are counted
 * under {@code other}, and no more per-dependency gauges are made. The number of meters is bounded
 * whatever the jobs. Thread-safe.
 */
public final class WorkerMetrics {
  private final MeterRegistry registry;
  private final Timer pollInterval;
  private final Map<String, Timer> attempts = new ConcurrentHashMap<>();
  private final Map<String, Counter> transitions = new ConcurrentHashMap<>();
  private final Map<String, Counter> loopErrors = new ConcurrentHashMap<>();
  private final Map<String, Counter> sendFailures = new ConcurrentHashMap<>();
  private final Set<String> dependencies = ConcurrentHashMap.newKeySet();
  private final TagCap types;
  private final TagCap dependencyTags;
  private volatile DependencyView view;

  /** How the meters read a dependency's state. */
  public record DependencyView(
      ToIntFunction<String> inFlight,
      ToIntFunction<String> limit,
      Function<String, BreakerState> breaker) {}

  /**
   * @param maxTags most distinct job types, and dependencies, with their own tag values
   */
  public WorkerMetrics(MeterRegistry registry, int maxTags) {
    this.registry = registry;
    this.types = new TagCap(maxTags);
    this.dependencyTags = new TagCap(maxTags);
    this.pollInterval =
        Timer.builder("ferry.worker.poll.interval")
            .description(
                "Time between two polls of the work topic (the poll loop never waits on"
                    + " handlers, so this stays small)")
            .publishPercentiles(0.5, 0.99)
            .register(registry);
  }

  /** Meters that go nowhere (tests). */
  public static WorkerMetrics none() {
    return new WorkerMetrics(
        new SimpleMeterRegistry(), Integer.parseInt(Setting.METRICS_MAX_TAGS.defaultValue()));
  }

  /** Gauges of the whole worker, read from its poll loop when scraped. */
  public <T> void worker(
      T loop,
      int concurrency,
      ToDoubleFunction<T> inFlight,
      ToDoubleFunction<T> buffered,
      ToDoubleFunction<T> paused,
      ToDoubleFunction<T> lag,
      ToDoubleFunction<T> sinceLastPollSeconds) {
    Gauge.builder("ferry.worker.in.flight", loop, inFlight)
        .description("Jobs running on this worker")
        .register(registry);
    Gauge.builder("ferry.worker.concurrency.limit", () -> concurrency)
        .description("Most jobs this worker runs at once (worker.concurrency)")
        .register(registry);
    Gauge.builder("ferry.worker.buffered", loop, buffered)
        .description("Records fetched but not started yet")
        .register(registry);
    Gauge.builder("ferry.worker.paused", loop, paused)
        .description("1 while fetching is paused (backpressure)")
        .register(registry);
    Gauge.builder("ferry.worker.lag", loop, lag)
        .description("Records behind the end of this worker's partitions (-1 unknown)")
        .register(registry);
    Gauge.builder("ferry.worker.poll.age.seconds", loop, sinceLastPollSeconds)
        .description("Seconds since the poll loop last polled")
        .register(registry);
  }

  /** Where dependency gauges read from (the poll loop's counts, the bulkheads, the breakers). */
  public void dependencies(DependencyView view) {
    this.view = view;
  }

  /**
   * A dependency this worker calls: its gauges exist from now on, unless {@code metrics.max.tags}
   * dependencies have gauges already.
   */
  public void dependencySeen(String dependency) {
    DependencyView v = view;
    if (dependency == null
        || v == null
        || dependencies.contains(dependency)
        || !dependency.equals(dependencyTags.tag(dependency))
        || !dependencies.add(dependency)) {
      return;
    }
    Gauge.builder("ferry.dependency.in.flight", () -> v.inFlight().applyAsInt(dependency))
        .description("Jobs of this dependency running on this worker")
        .tag("dependency", dependency)
        .register(registry);
    Gauge.builder("ferry.dependency.concurrency.limit", () -> v.limit().applyAsInt(dependency))
        .description("Per-worker limit of this dependency (its bulkhead; 0 = none)")
        .tag("dependency", dependency)
        .register(registry);
    Gauge.builder("ferry.breaker.state", () -> code(v.breaker().apply(dependency)))
        .description("The shared breaker as this worker sees it: 0 CLOSED, 1 HALF_OPEN, 2 OPEN")
        .tag("dependency", dependency)
        .register(registry);
  }

  /** A breaker transition this worker made (each is made by exactly one worker). */
  public void transition(String dependency, BreakerState from, BreakerState to) {
    String d = dependencyTags.tag(dependency == null ? "" : dependency);
    transitions
        .computeIfAbsent(
            d + '\0' + from + '\0' + to,
            k ->
                Counter.builder("ferry.breaker.transitions")
                    .description("Breaker state changes, by the worker that made them")
                    .tag("dependency", d)
                    .tag("from", from.name())
                    .tag("to", to.name())
                    .register(registry))
        .increment();
  }

  /** One attempt's run time, by job type and outcome. */
  public void attempt(String type, Outcome outcome, Duration took) {
    String kind =
        switch (outcome) {
          case Outcome.Succeeded s -> "succeeded";
          case Outcome.Failed f -> f.retryable() ? "failed_retryable" : "failed";
          case Outcome.TimedOut t -> "timed_out";
          case Outcome.Deferred d -> "deferred";
          case Outcome.Spawned s -> "spawned";
        };
    String t = types.tag(type == null ? "" : type);
    attempts
        .computeIfAbsent(
            t + '\0' + kind,
            k ->
                Timer.builder("ferry.attempt.duration")
                    .description("Run time of attempts, from start on the worker to the outcome")
                    .tag("type", t)
                    .tag("outcome", kind)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofMinutes(10))
                    .register(registry))
        .record(took);
  }

  /** {@link #sendFailed} of an attempt's outcome (it is sent again). */
  public static final String RECORD_OUTCOME = "outcome";

  /** {@link #sendFailed} of an attempt's start notice (not sent again). */
  public static final String RECORD_START_NOTICE = "start-notice";

  /** {@link #sendFailed} of a breaker transition event on {@code ferry.events}. */
  public static final String RECORD_BREAKER_EVENT = "breaker-event";

  /**
   * A background loop failed (database or Kafka away, a bug): it logged it and retries (the poll
   * loop ends instead). Counted as {@code ferry.loop.errors{loop}}, like the orchestrator's loops;
   * {@code loop} is the loop thread's name.
   */
  public void loopError(String loop) {
    loopErrors
        .computeIfAbsent(
            loop,
            k ->
                Counter.builder("ferry.loop.errors")
                    .description("Failures of background loops (each is logged and retried)")
                    .tag("loop", loop)
                    .register(registry))
        .increment();
  }

  /**
   * Kafka refused or lost a record this worker produced ({@code record}: one of the {@code
   * RECORD_*} constants). Counted as {@code ferry.worker.send.failures{record}}.
   */
  public void sendFailed(String record) {
    sendFailures
        .computeIfAbsent(
            record,
            k ->
                Counter.builder("ferry.worker.send.failures")
                    .description(
                        "Records this worker produced that Kafka refused or did not acknowledge")
                    .tag("record", record)
                    .register(registry))
        .increment();
  }

  /** The time between two polls. */
  public void pollInterval(long nanos) {
    pollInterval.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  private static double code(BreakerState s) {
    if (s == null) {
      return 0;
    }
    return switch (s) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }
}
