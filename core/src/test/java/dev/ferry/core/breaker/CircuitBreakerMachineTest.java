package dev.ferry.core.breaker;

import static dev.ferry.core.breaker.CircuitBreakerMachine.acquire;
import static dev.ferry.core.breaker.CircuitBreakerMachine.admit;
import static dev.ferry.core.breaker.CircuitBreakerMachine.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.breaker.CircuitBreakerMachine.Admission;
import dev.ferry.core.breaker.CircuitBreakerMachine.Step;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CircuitBreakerMachineTest {
  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private static final BreakerConfig C =
      new BreakerConfig(WindowType.COUNT, 10, 5, 50, 1000, 100, 10_000, 2.0, 35_000, 3, 0);

  private static BreakerSnapshot fresh() {
    return BreakerSnapshot.closed("api:80", C, T0);
  }

  private static List<Call> n(int count, Call c) {
    return Collections.nCopies(count, c);
  }

  @Test
  void closed_staysClosedBelowMinimumCalls() {
    Step s = record(fresh(), n(4, Call.FAILURE), T0, C);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
    assertThat(s.transition()).isNull();
    assertThat(admit(s.snapshot(), T0)).isEqualTo(Admission.CALL);
  }

  @Test
  void closed_opensAtTheFailureRateOnceMinimumCallsReached() {
    Step s =
        record(fresh(), List.of(Call.SUCCESS, Call.SUCCESS, Call.SUCCESS, Call.FAILURE), T0, C);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
    s = record(s.snapshot(), List.of(Call.FAILURE), T0, C); // 2 of 5 = 40 %
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
    s = record(s.snapshot(), List.of(Call.FAILURE), T0.plusSeconds(1), C); // 3 of 6 = 50 %
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.OPEN);
    assertThat(s.transition().from()).isEqualTo(BreakerState.CLOSED);
    assertThat(s.transition().to()).isEqualTo(BreakerState.OPEN);
    assertThat(s.transition().reason()).contains("failure rate 50%");
    assertThat(s.snapshot().generation()).isEqualTo(1);
    assertThat(s.snapshot().retryAt()).isEqualTo(T0.plusSeconds(11));
    assertThat(admit(s.snapshot(), T0.plusSeconds(5))).isEqualTo(Admission.DEFER);
  }

  @Test
  void countWindow_forgetsOldCalls() {
    Step s = record(fresh(), n(4, Call.FAILURE), T0, C);
    s = record(s.snapshot(), n(10, Call.SUCCESS), T0, C);
    assertThat(s.snapshot().window().totals(T0.getEpochSecond()).failures()).isZero();
    s = record(s.snapshot(), n(4, Call.FAILURE), T0, C); // 4 of the last 10
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
  }

  @Test
  void timeWindow_forgetsOldSeconds() {
    BreakerConfig time =
        new BreakerConfig(WindowType.TIME, 10, 5, 50, 1000, 100, 10_000, 1, 10_000, 3, 0);
    BreakerSnapshot s0 = BreakerSnapshot.closed("d", time, T0);
    Step s = record(s0, n(4, Call.FAILURE), T0, time);
    s = record(s.snapshot(), n(4, Call.SUCCESS), T0.plusSeconds(11), time); // the failures aged out
    assertThat(s.snapshot().window().totals(T0.plusSeconds(11).getEpochSecond()).calls())
        .isEqualTo(4);
    s = record(s.snapshot(), n(1, Call.FAILURE), T0.plusSeconds(12), time);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
    s = record(s.snapshot(), n(4, Call.FAILURE), T0.plusSeconds(12), time); // 5 of 9
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.OPEN);
    // Stored form round-trips.
    SlidingWindow w = SlidingWindow.parse(WindowType.TIME, 10, "100:3:1:0;105:2:2:1");
    assertThat(w.text()).isEqualTo("100:3:1:0;105:2:2:1");
    assertThat(w.totals(106)).isEqualTo(new SlidingWindow.Totals(5, 3, 1));
  }

  @Test
  void slowCalls_openTheBreakerAtTheirRate() {
    BreakerConfig slow =
        new BreakerConfig(WindowType.COUNT, 10, 5, 50, 1000, 60, 10_000, 1, 10_000, 3, 0);
    Step s = record(BreakerSnapshot.closed("d", slow, T0), n(2, Call.SUCCESS), T0, slow);
    s = record(s.snapshot(), n(3, new Call(false, true)), T0, slow); // 3 of 5 slow = 60 %
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.OPEN);
    assertThat(s.transition().reason()).contains("slow rate 60%");
  }

  @Test
  void open_ignoresLateCalls_andHalfOpensOnTheFirstPermitAfterRetryAt() {
    BreakerSnapshot open = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    assertThat(record(open, n(3, Call.SUCCESS), T0.plusSeconds(1), C).snapshot()).isEqualTo(open);
    assertThat(acquire(open, T0.plusSeconds(9), C).granted()).isFalse();
    var p = acquire(open, T0.plusSeconds(10), C);
    assertThat(p.granted()).isTrue();
    assertThat(p.step().snapshot().state()).isEqualTo(BreakerState.HALF_OPEN);
    assertThat(p.step().transition().to()).isEqualTo(BreakerState.HALF_OPEN);
    assertThat(p.step().snapshot().generation()).isEqualTo(2);
  }

  @Test
  void halfOpen_permitsExactlyTheConfiguredTrialCalls() {
    BreakerSnapshot open = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    Instant t = T0.plusSeconds(10);
    BreakerSnapshot s = acquire(open, t, C).step().snapshot();
    s = acquire(s, t, C).step().snapshot();
    var third = acquire(s, t, C);
    assertThat(third.granted()).isTrue();
    var fourth = acquire(third.step().snapshot(), t, C);
    assertThat(fourth.granted()).isFalse();
    // Permits of lost trial calls expire (after the longer of an open period and 60 s).
    assertThat(acquire(third.step().snapshot(), t.plusSeconds(59), C).granted()).isFalse();
    var later = acquire(third.step().snapshot(), t.plusSeconds(61), C);
    assertThat(later.granted()).isTrue();
    assertThat(later.step().snapshot().halfOpenPermits()).isEqualTo(1);
  }

  @Test
  void halfOpen_closesAfterEnoughSuccesses() {
    BreakerSnapshot open = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    BreakerSnapshot half = acquire(open, T0.plusSeconds(10), C).step().snapshot();
    Step s = record(half, n(2, Call.SUCCESS), T0.plusSeconds(10), C);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.HALF_OPEN);
    s = record(s.snapshot(), n(1, Call.SUCCESS), T0.plusSeconds(10), C);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.CLOSED);
    assertThat(s.snapshot().trips()).isZero();
    assertThat(s.transition().to()).isEqualTo(BreakerState.CLOSED);
  }

  @Test
  void halfOpen_failureReopensForLonger_cappedAtTheMaximum() {
    BreakerSnapshot s = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    assertThat(Duration.between(s.openedAt(), s.retryAt())).isEqualTo(Duration.ofSeconds(10));
    Instant t = s.retryAt();
    for (long expected : new long[] {20, 35, 35}) {
      BreakerSnapshot half = acquire(s, t, C).step().snapshot();
      Step reopened = record(half, List.of(Call.FAILURE), t, C);
      s = reopened.snapshot();
      assertThat(s.state()).isEqualTo(BreakerState.OPEN);
      assertThat(reopened.transition().from()).isEqualTo(BreakerState.HALF_OPEN);
      assertThat(Duration.between(s.openedAt(), s.retryAt()))
          .isEqualTo(Duration.ofSeconds(expected));
      t = s.retryAt();
    }
  }

  /** The outcomes of calls, all admitted in {@code epoch}. */
  private static Outcomes admittedIn(long epoch, List<Call> calls) {
    return Outcomes.of(calls, epoch, C);
  }

  @Test
  void halfOpen_ignoresCallsAdmittedBeforeTheTrip() {
    BreakerSnapshot closed = fresh();
    long admittedWhileClosed = closed.epoch();
    BreakerSnapshot open = record(closed, n(5, Call.FAILURE), T0, C).snapshot();
    BreakerSnapshot half = acquire(open, T0.plusSeconds(10), C).step().snapshot();
    assertThat(half.epoch()).isGreaterThan(admittedWhileClosed);

    // Calls admitted while CLOSED finish now: neither trials that succeed nor ones that fail.
    Step late =
        record(half, admittedIn(admittedWhileClosed, n(3, Call.SUCCESS)), T0.plusSeconds(10), C);
    assertThat(late.transition()).isNull();
    assertThat(late.snapshot()).isEqualTo(half);
    late = record(half, admittedIn(admittedWhileClosed, n(1, Call.FAILURE)), T0.plusSeconds(10), C);
    assertThat(late.snapshot().state()).isEqualTo(BreakerState.HALF_OPEN);

    // The real trials decide.
    Step trial = record(half, admittedIn(half.epoch(), n(3, Call.SUCCESS)), T0.plusSeconds(11), C);
    assertThat(trial.snapshot().state()).isEqualTo(BreakerState.CLOSED);
  }

  @Test
  void halfOpen_aLateCallBeforeTrialsInTheSameReport_doesNotCompleteTheTrials() {
    BreakerSnapshot open = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    BreakerSnapshot half = acquire(open, T0.plusSeconds(10), C).step().snapshot();
    Outcomes report = admittedIn(fresh().epoch(), n(5, Call.SUCCESS));
    report.add(Call.SUCCESS, half.epoch());
    report.add(Call.SUCCESS, half.epoch());
    Step s = record(half, report, T0.plusSeconds(10), C);
    assertThat(s.snapshot().state())
        .as("2 trials of 3 succeeded")
        .isEqualTo(BreakerState.HALF_OPEN);
    assertThat(s.snapshot().halfOpenSuccesses()).isEqualTo(2);
  }

  @Test
  void halfOpen_outcomesOfExpiredPermitsAreNotTrials() {
    BreakerSnapshot open = record(fresh(), n(5, Call.FAILURE), T0, C).snapshot();
    Instant t = T0.plusSeconds(10);
    BreakerSnapshot half = acquire(open, t, C).step().snapshot();
    long expiredEpoch = half.epoch();
    var renewed = acquire(half, t.plusSeconds(61), C);
    assertThat(renewed.granted()).isTrue();
    assertThat(renewed.step().snapshot().epoch()).isEqualTo(expiredEpoch + 1);
    Step late =
        record(
            renewed.step().snapshot(),
            admittedIn(expiredEpoch, n(1, Call.FAILURE)),
            t.plusSeconds(62),
            C);
    assertThat(late.snapshot().state()).isEqualTo(BreakerState.HALF_OPEN);
  }

  @Test
  void everyTransitionStartsANewEpoch() {
    BreakerSnapshot s = fresh();
    Step open = record(s, n(5, Call.FAILURE), T0, C);
    assertThat(open.snapshot().epoch()).isEqualTo(s.epoch() + 1);
    var half = acquire(open.snapshot(), T0.plusSeconds(10), C).step();
    assertThat(half.snapshot().epoch()).isEqualTo(s.epoch() + 2);
    Step closed = record(half.snapshot(), n(3, Call.SUCCESS), T0.plusSeconds(10), C);
    assertThat(closed.snapshot().epoch()).isEqualTo(s.epoch() + 3);
    assertThat(
            CircuitBreakerMachine.force(closed.snapshot(), BreakerState.OPEN, T0, null, C)
                .snapshot()
                .epoch())
        .isEqualTo(s.epoch() + 4);
    assertThat(CircuitBreakerMachine.reset(closed.snapshot(), T0, C).snapshot().epoch())
        .isEqualTo(s.epoch() + 4);
  }

  @Test
  void closed_countsCallsOfAnyEpoch() {
    Step s = record(fresh(), admittedIn(-1, n(5, Call.FAILURE)), T0, C);
    assertThat(s.snapshot().state()).isEqualTo(BreakerState.OPEN);
  }

  @Test
  void forcedStates_andReset() {
    Step open = CircuitBreakerMachine.force(fresh(), BreakerState.OPEN, T0, null, C);
    assertThat(admit(open.snapshot(), T0.plusSeconds(3600))).isEqualTo(Admission.DEFER);
    assertThat(acquire(open.snapshot(), T0.plusSeconds(3600), C).granted()).isFalse();
    Step closed = CircuitBreakerMachine.force(open.snapshot(), BreakerState.CLOSED, T0, null, C);
    assertThat(record(closed.snapshot(), n(20, Call.FAILURE), T0, C).snapshot().state())
        .as("forced closed never opens")
        .isEqualTo(BreakerState.CLOSED);
    Step reset = CircuitBreakerMachine.reset(closed.snapshot(), T0, C);
    assertThat(reset.snapshot().forced()).isNull();
    assertThat(record(reset.snapshot(), n(5, Call.FAILURE), T0, C).snapshot().state())
        .isEqualTo(BreakerState.OPEN);
    assertThat(reset.snapshot().generation()).isEqualTo(3);
  }

  @Test
  void invalidConfig_isRejectedWithTheBadValue() {
    assertThatThrownBy(
            () -> new BreakerConfig(WindowType.COUNT, 0, 5, 50, 1000, 100, 10, 1, 10, 3, 0))
        .hasMessage("breaker.window.size must be between 1 and 10000 but was 0");
    assertThatThrownBy(
            () -> new BreakerConfig(WindowType.COUNT, 10, 5, 150, 1000, 100, 10, 1, 10, 3, 0))
        .hasMessage("breaker.failure.rate.threshold must be in (0, 100] but was 150.0");
    assertThatThrownBy(
            () -> new BreakerConfig(WindowType.COUNT, 10, 5, 50, 1000, 100, 100, 1, 10, 3, 0))
        .hasMessage("breaker.open.max.ms must be >= breaker.open.ms (100) but was 10");
  }
}
