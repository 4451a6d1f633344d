package dev.ferry.worker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.metrics.TagCap;
import dev.ferry.core.model.Outcome;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {
  private static final int CAP = 50;

  @Test
  void tenThousandJobTypes_makeAtMostCapPlusOneTimers_otherCarriesTheRest() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkerMetrics m = new WorkerMetrics(registry, CAP);
    for (int i = 0; i < 10_000; i++) {
      m.attempt("type-" + i, new Outcome.Succeeded(null), Duration.ofMillis(1));
    }
    List<Timer> timers = registry.find("ferry.attempt.duration").timers().stream().toList();
    assertThat(timers).hasSize(CAP + 1);
    Timer other = registry.find("ferry.attempt.duration").tag("type", TagCap.OTHER).timer();
    assertThat(other).isNotNull();
    assertThat(other.count()).isEqualTo(10_000 - CAP);
    assertThat(registry.find("ferry.attempt.duration").tag("type", "type-0").timer().count())
        .isEqualTo(1);
  }

  @Test
  void tenThousandDependencies_makeBoundedGaugesAndTransitionCounters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkerMetrics m = new WorkerMetrics(registry, CAP);
    m.dependencies(new WorkerMetrics.DependencyView(d -> 0, d -> 0, d -> BreakerState.CLOSED));
    for (int i = 0; i < 10_000; i++) {
      m.dependencySeen("dep-" + i);
      m.transition("dep-" + i, BreakerState.CLOSED, BreakerState.OPEN);
    }
    assertThat(registry.find("ferry.breaker.state").gauges()).hasSize(CAP);
    assertThat(registry.find("ferry.breaker.transitions").counters()).hasSize(CAP + 1);
    assertThat(
            registry
                .find("ferry.breaker.transitions")
                .tag("dependency", TagCap.OTHER)
                .counter()
                .count())
        .isEqualTo(10_000 - CAP);
    assertThat(
            registry.getMeters().stream()
                .map(Meter::getId)
                .filter(id -> !id.getName().startsWith("ferry.worker.poll.interval"))
                .count())
        .as("three gauges per capped dependency, transitions with other")
        .isEqualTo(3L * CAP + CAP + 1);
  }

  @Test
  void loopErrors_areCountedPerLoop_underTheOrchestratorsName() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkerMetrics m = new WorkerMetrics(registry, CAP);
    m.loopError("ferry-worker-cancel");
    m.loopError("ferry-worker-cancel");
    m.loopError("ferry-breaker-reporter");
    assertThat(
            registry.find("ferry.loop.errors").tag("loop", "ferry-worker-cancel").counter().count())
        .isEqualTo(2);
    assertThat(
            registry
                .find("ferry.loop.errors")
                .tag("loop", "ferry-breaker-reporter")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void sendFailures_areCountedPerRecordKind() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkerMetrics m = new WorkerMetrics(registry, CAP);
    m.sendFailed(WorkerMetrics.RECORD_BREAKER_EVENT);
    assertThat(
            registry
                .find("ferry.worker.send.failures")
                .tag("record", WorkerMetrics.RECORD_BREAKER_EVENT)
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .find("ferry.worker.send.failures")
                .tag("record", WorkerMetrics.RECORD_OUTCOME)
                .counter())
        .isNull();
  }
}
