package dev.ferry.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.worker.poll.AdmissionPolicy.Verdict;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admission rules alone: no consumer, no handler threads, no database. */
class AdmissionPolicyTest {
  /** {@code payments} allows 2 at once, {@code mail} 1; anything else has no limit of its own. */
  private static final Map<String, Integer> BULKHEADS = Map.of("payments", 2, "mail", 1);

  private static AdmissionPolicy policy(int concurrency, int bufferLimit) {
    return new AdmissionPolicy(concurrency, bufferLimit, d -> BULKHEADS.getOrDefault(d, 0));
  }

  @Test
  void globalLimit_noStartOnceAllSlotsAreBusy_untilOneEnds() {
    AdmissionPolicy p = policy(2, 10);
    assertThat(p.mayStart(0)).isTrue();
    p.started(null);
    p.started("search");
    assertThat(p.inFlight()).isEqualTo(2);
    assertThat(p.mayStart(0)).as("both slots busy").isFalse();
    p.ended("search");
    assertThat(p.mayStart(0)).isTrue();
    assertThat(p.maxInFlight()).isEqualTo(2);
  }

  @Test
  void unacknowledgedOutcomes_atTheBufferLimit_stopStarts() {
    AdmissionPolicy p = policy(4, 3);
    assertThat(p.mayStart(2)).isTrue();
    assertThat(p.mayStart(3)).as("outcomes pile up while Kafka does not acknowledge").isFalse();
  }

  @Test
  void unacknowledged_isAwaitingOutcomeMinusRunning_neverNegative() {
    AdmissionPolicy p = policy(4, 10);
    p.started(null);
    p.started(null);
    assertThat(p.unacknowledged(5)).isEqualTo(3);
    assertThat(p.unacknowledged(1)).isZero();
  }

  @Test
  void bulkhead_fullDependencyWaits_othersStillStart() {
    AdmissionPolicy p = policy(10, 10);
    assertThat(p.decide("payments", 0, 0)).isEqualTo(Verdict.START);
    p.started("payments");
    p.started("payments");
    assertThat(p.decide("payments", 0, 2)).isEqualTo(Verdict.WAIT);
    assertThat(p.decide("search", 0, 2)).as("no limit of its own").isEqualTo(Verdict.START);
    assertThat(p.decide(null, 0, 2)).as("no dependency").isEqualTo(Verdict.START);
    assertThat(p.inFlight("payments")).isEqualTo(2);
    p.ended("payments");
    assertThat(p.inFlight("payments")).isEqualTo(1);
    assertThat(p.decide("payments", 0, 1)).isEqualTo(Verdict.START);
  }

  @Test
  void started_tellsWhenADependencyIsFirstSeenRunning() {
    AdmissionPolicy p = policy(10, 10);
    assertThat(p.started("mail")).isTrue();
    assertThat(p.started("mail")).isFalse();
    assertThat(p.started(null)).isFalse();
    p.ended("mail");
    p.ended("mail");
    assertThat(p.inFlight("mail")).isZero();
    assertThat(p.started("mail")).as("counted from zero again").isTrue();
  }

  @Test
  void crashedJob_waitsForEverythingOutstanding_thenRunsAloneUntilItReports() {
    AdmissionPolicy p = policy(10, 10);
    p.started("search");
    assertThat(p.decide("search", 1, 1)).as("another job runs").isEqualTo(Verdict.STOP);
    p.ended("search");
    assertThat(p.decide("search", 1, 1))
        .as("another outcome is unacknowledged")
        .isEqualTo(Verdict.STOP);
    assertThat(p.decide("search", 1, 0)).isEqualTo(Verdict.START_ALONE);

    p.startedAlone();
    assertThat(p.isolating()).isTrue();
    assertThat(p.mayStart(0)).as("nothing starts next to it").isFalse();
    p.ended(null);
    assertThat(p.mayStart(0)).as("ended, but not reported yet").isFalse();
    p.reported(false);
    assertThat(p.mayStart(0)).as("another job's report does not end the isolation").isFalse();
    p.reported(true);
    assertThat(p.isolating()).isFalse();
    assertThat(p.mayStart(0)).isTrue();
  }

  @Test
  void crashedJob_ignoresItsBulkhead_itRunsAloneAnyway() {
    AdmissionPolicy p = policy(10, 10);
    assertThat(p.decide("mail", 2, 0)).isEqualTo(Verdict.START_ALONE);
  }

  @Test
  void waitingJobsAreDeferred_onlyWhenSlotsAreFreeAndTheBufferIsFull() {
    AdmissionPolicy p = policy(2, 4);
    p.started("mail");
    assertThat(p.bulkheadFull("mail")).isTrue();
    assertThat(p.bulkheadFull("payments")).isFalse();
    assertThat(p.bulkheadFull(null)).isFalse();
    assertThat(p.shouldDeferWaiting(3)).as("room left in the buffer").isFalse();
    assertThat(p.shouldDeferWaiting(4)).isTrue();
    p.started(null);
    assertThat(p.shouldDeferWaiting(4)).as("no free slot: nothing would start instead").isFalse();
  }

  @Test
  void fetchingPauses_whenDraining_full_buffered_orChecking() {
    AdmissionPolicy p = policy(2, 4);
    assertThat(p.mustPause(false, 0, 0, false)).isFalse();
    assertThat(p.mustPause(true, 0, 0, false)).as("draining").isTrue();
    assertThat(p.mustPause(false, 0, 0, true)).as("a redelivery check is out").isTrue();
    assertThat(p.mustPause(false, 3, 0, false)).isFalse();
    assertThat(p.mustPause(false, 3, 1, false)).as("buffer plus unacknowledged outcomes").isTrue();
    p.started(null);
    p.started(null);
    assertThat(p.mustPause(false, 0, 0, false)).as("all slots busy").isTrue();
  }

  @Test
  void badLimits_failNamingTheValue() {
    assertThatThrownBy(() -> policy(0, 4)).hasMessage("concurrency must be >= 1 but was 0");
    assertThatThrownBy(() -> policy(1, 0)).hasMessage("bufferLimit must be >= 1 but was 0");
  }
}
