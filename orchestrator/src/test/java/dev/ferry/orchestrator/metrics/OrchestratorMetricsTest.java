package dev.ferry.orchestrator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.metrics.TagCap;
import dev.ferry.core.model.JobStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class OrchestratorMetricsTest {
  private static final int CAP = 200;

  @Test
  void tenThousandJobTypes_makeAtMostCapPlusOneCounters_otherCarriesTheRest() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OrchestratorMetrics m = new OrchestratorMetrics(registry, CAP);
    for (int i = 0; i < 10_000; i++) {
      m.submitted("t" + i, 2);
      m.outcome("t" + i, JobStatus.SUCCEEDED, false);
    }
    assertThat(registry.find("ferry.jobs.submitted").counters()).hasSize(CAP + 1);
    assertThat(registry.find("ferry.jobs.succeeded").counters()).hasSize(CAP + 1);
    assertThat(registry.find("ferry.jobs.submitted").tag("type", TagCap.OTHER).counter().count())
        .isEqualTo(2.0 * (10_000 - CAP));
    assertThat(registry.find("ferry.jobs.submitted").tag("type", "t199").counter().count())
        .isEqualTo(2.0);
    assertThat(registry.find("ferry.jobs.submitted").tag("type", "t200").counter()).isNull();
  }
}
