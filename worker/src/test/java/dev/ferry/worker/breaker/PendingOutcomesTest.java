package dev.ferry.worker.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.Outcomes;
import dev.ferry.core.breaker.WindowType;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PendingOutcomesTest {
  private static final BreakerConfig CFG =
      new BreakerConfig(WindowType.COUNT, 20, 5, 50, 1000, 100, 10_000, 2.0, 35_000, 3, 0);
  private static final List<String> DEPS = List.of("payments-api", "mail:25", "search");

  @Test
  void aLongOutage_keepsOneEntryPerDependency_andTheAggregateIsAppliedOnceWhenBack()
      throws Exception {
    PendingOutcomes pending = new PendingOutcomes(d -> CFG);
    int reports = 0;
    for (int i = 0; i < 30_000; i++) {
      pending.add(DEPS.get(i % 3), i % 4 == 0 ? Call.FAILURE : Call.SUCCESS, 7);
      if (i % 1_000 == 999) {
        // Every report interval the store is away.
        assertThatThrownBy(
                () ->
                    pending.flush(
                        o -> {
                          throw new SQLException("connection refused");
                        }))
            .isInstanceOf(SQLException.class);
        reports++;
        assertThat(pending.size()).isLessThanOrEqualTo(DEPS.size());
      }
    }
    assertThat(reports).isEqualTo(30);
    assertThat(pending.size()).isEqualTo(DEPS.size());

    List<Map<String, Outcomes>> applied = new ArrayList<>();
    pending.flush(applied::add);
    pending.flush(applied::add);
    assertThat(applied).as("applied once, nothing left after").hasSize(1);
    Map<String, Outcomes> report = applied.get(0);
    assertThat(report).containsOnlyKeys(DEPS);
    long calls = 0;
    long failures = 0;
    for (Outcomes o : report.values()) {
      calls += o.calls();
      failures += o.failures();
      assertThat(o.tail()).hasSize(CFG.windowSize());
      assertThat(o.trials(7).calls()).isEqualTo(10_000);
    }
    assertThat(calls).isEqualTo(30_000);
    assertThat(failures).isEqualTo(7_500);
    assertThat(pending.size()).isZero();
  }

  @Test
  void callsRecordedDuringAFailedReport_comeAfterTheReturnedOnes() throws Exception {
    PendingOutcomes pending = new PendingOutcomes(d -> CFG);
    pending.add("d", Call.FAILURE, 1);
    assertThatThrownBy(
            () ->
                pending.flush(
                    o -> {
                      // Finishes while the report is on its way (and fails).
                      pending.add("d", Call.SUCCESS, 2);
                      throw new SQLException("gone");
                    }))
        .isInstanceOf(SQLException.class);
    List<Map<String, Outcomes>> applied = new ArrayList<>();
    pending.flush(applied::add);
    Outcomes o = applied.get(0).get("d");
    assertThat(o.tail()).isEqualTo("fs");
    assertThat(o.epoch()).isEqualTo(2);
    assertThat(o.trials(2).ok()).isEqualTo(1);
  }
}
