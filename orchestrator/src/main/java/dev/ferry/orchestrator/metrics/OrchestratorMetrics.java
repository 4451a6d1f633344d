package dev.ferry.orchestrator.metrics;

import dev.ferry.core.config.Setting;
import dev.ferry.core.metrics.TagCap;
import dev.ferry.core.model.JobStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The orchestrator's own meters: jobs accepted, rejected and finished per type, and the sizes of
 * intake, dispatch and apply batches. Counted once per batch, never a lookup per job beyond a map
 * hit. Job types come from users, so their tag values are capped ({@code metrics.max.tags}, see
 * {@link TagCap}): jobs of types beyond the cap are counted under {@code other}, and the number of
 * meters stays bounded. Thread-safe.
 */
public final class OrchestratorMetrics {
  private final MeterRegistry registry;
  private final Counter rejected;
  private final DistributionSummary intakeBatch;
  private final DistributionSummary dispatchBatch;
  private final DistributionSummary applyBatch;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final TagCap types;

  /**
   * @param maxTags most distinct job types with their own tag value
   */
  public OrchestratorMetrics(MeterRegistry registry, int maxTags) {
    this.registry = registry;
    this.types = new TagCap(maxTags);
    this.rejected =
        Counter.builder("ferry.jobs.rejected")
            .description(
                "Submissions rejected as invalid (to the DLQ and ferry.rejected_submissions)")
            .register(registry);
    this.intakeBatch = batch("ferry.intake.batch.size", "Submission records per intake batch");
    this.dispatchBatch = batch("ferry.dispatch.batch.size", "Jobs per dispatcher round");
    this.applyBatch = batch("ferry.apply.batch.size", "Attempt reports per applier batch");
  }

  /** Meters that go nowhere (tests, tools). */
  public static OrchestratorMetrics none() {
    return new OrchestratorMetrics(
        new SimpleMeterRegistry(), Integer.parseInt(Setting.METRICS_MAX_TAGS.defaultValue()));
  }

  private DistributionSummary batch(String name, String description) {
    return DistributionSummary.builder(name)
        .description(description)
        .publishPercentiles(0.5, 0.99)
        .register(registry);
  }

  /**
   * A background loop failed (database or Kafka away, a bug): it logged it and retries; the count
   * makes such failures visible to alerting too.
   */
  public void loopError(String loop) {
    counters
        .computeIfAbsent(
            "ferry.loop.errors\0" + loop,
            k ->
                Counter.builder("ferry.loop.errors")
                    .description("Failures of background loops (each is logged and retried)")
                    .tag("loop", loop)
                    .register(registry))
        .increment();
  }

  /**
   * A record, outcome or job that PostgreSQL or Kafka refused was set aside with its reason
   * (rejected, or its job ended FAILED) so that the rest of its batch went on.
   */
  public void quarantined(String loop) {
    counters
        .computeIfAbsent(
            "ferry.quarantined\0" + loop,
            k ->
                Counter.builder("ferry.quarantined")
                    .description(
                        "Records or jobs set aside because PostgreSQL or Kafka refused them")
                    .tag("loop", loop)
                    .register(registry))
        .increment();
  }

  /** {@code n} jobs of a type accepted (children of fan-outs included). */
  public void submitted(String type, int n) {
    counter("ferry.jobs.submitted", type, "Jobs accepted (rows inserted)").increment(n);
  }

  /** {@code n} submissions that created no job: their unique key was taken. */
  public void deduplicated(int n) {
    registry.counter("ferry.jobs.deduplicated").increment(n);
  }

  /** {@code n} jobs created by schedule ticks. */
  public void scheduled(int n) {
    registry.counter("ferry.schedule.ticks").increment(n);
  }

  public void rejected(int n) {
    rejected.increment(n);
  }

  /**
   * An applied outcome: succeeded, failed, retried (RETRY_WAIT) or deferred (attempt given back).
   */
  public void outcome(String type, JobStatus status, boolean deferred) {
    if (deferred) {
      counter("ferry.jobs.deferred", type, "Attempts given back (breaker open, snooze)")
          .increment();
    } else if (status == JobStatus.SUCCEEDED) {
      counter("ferry.jobs.succeeded", type, "Jobs that ended SUCCEEDED").increment();
    } else if (status == JobStatus.FAILED) {
      counter("ferry.jobs.failed", type, "Jobs that ended FAILED").increment();
    } else if (status == JobStatus.RETRY_WAIT) {
      counter("ferry.jobs.retried", type, "Failed attempts scheduled for a retry").increment();
    }
  }

  public void intakeBatch(int records) {
    intakeBatch.record(records);
  }

  public void dispatchBatch(int jobs) {
    dispatchBatch.record(jobs);
  }

  public void applyBatch(int reports) {
    applyBatch.record(reports);
  }

  private Counter counter(String name, String type, String description) {
    String t = types.tag(type == null ? "" : type);
    return counters.computeIfAbsent(
        name + '\0' + t,
        k -> Counter.builder(name).description(description).tag("type", t).register(registry));
  }
}
