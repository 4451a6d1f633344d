package dev.ferry.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
  private static OffsetTracker tracker() {
    return new OffsetTracker(Long.MAX_VALUE);
  }

  @Test
  void nothingReceived_nothingToCommit() {
    OffsetTracker t = tracker();
    assertThat(t.committable()).isEqualTo(-1);
    assertThat(t.uncommitted()).isEqualTo(-1);
    assertThat(t.confirmed()).isEqualTo(-1);
  }

  @Test
  void committable_isTheHighestContiguousFinishedOffset() {
    OffsetTracker t = tracker();
    t.received(10);
    t.received(11);
    t.received(12);
    assertThat(t.committable()).isEqualTo(10);
    t.finished(11);
    assertThat(t.committable()).as("10 still runs").isEqualTo(10);
    t.finished(10);
    assertThat(t.committable()).isEqualTo(12);
    t.finished(12);
    assertThat(t.committable()).isEqualTo(13);
  }

  @Test
  void gapsInOffsets_compactedOrTransactional_doNotHoldTheCommitBack() {
    OffsetTracker t = tracker();
    t.received(3);
    t.received(7);
    t.finished(3);
    assertThat(t.committable()).isEqualTo(7);
    t.finished(7);
    assertThat(t.committable()).isEqualTo(8);
  }

  @Test
  void finishingAnUnknownOrRepeatedOffset_changesNothing() {
    OffsetTracker t = tracker();
    t.received(0);
    t.received(1);
    t.finished(5);
    t.finished(1);
    t.finished(1);
    assertThat(t.committable()).as("0 still runs").isEqualTo(0);
  }

  @Test
  void anOffsetIsCommittedOnlyOnceTheBrokerConfirmsIt() {
    OffsetTracker t = tracker();
    t.received(0);
    t.finished(0);
    assertThat(t.committable()).isEqualTo(1);
    t.commitSent(1);
    assertThat(t.confirmed()).as("sent is not committed").isEqualTo(-1);
    assertThat(t.committable()).as("not sent twice while unanswered").isEqualTo(-1);
    assertThat(t.uncommitted()).as("a final synchronous commit still carries it").isEqualTo(1);
    t.committed(1);
    assertThat(t.confirmed()).isEqualTo(1);
    assertThat(t.committable()).isEqualTo(-1);
    assertThat(t.uncommitted()).isEqualTo(-1);
  }

  @Test
  void progressWhileACommitIsUnanswered_isOfferedInTheNextCommit() {
    OffsetTracker t = tracker();
    t.received(0);
    t.received(1);
    t.finished(0);
    t.commitSent(1);
    t.finished(1);
    assertThat(t.committable()).isEqualTo(2);
  }

  @Test
  void aFailedCommit_isOfferedAgain_evenWithNoNewProgress() {
    OffsetTracker t = tracker();
    t.received(5);
    t.finished(5);
    t.commitSent(6);
    t.commitFailed();
    assertThat(t.confirmed()).isEqualTo(-1);
    assertThat(t.committable())
        .as("an idle partition must not keep its offset uncommitted")
        .isEqualTo(6);
  }

  @Test
  void aLateFailureOfAnOlderCommit_doesNotUndoAConfirmedNewerOne() {
    OffsetTracker t = tracker();
    t.received(0);
    t.received(1);
    t.finished(0);
    t.commitSent(1);
    t.finished(1);
    t.commitSent(2);
    t.committed(2);
    t.commitFailed(); // the answer to the commit of 1
    assertThat(t.confirmed()).isEqualTo(2);
    assertThat(t.committable()).isEqualTo(-1);
  }

  @Test
  void aLateConfirmationOfAnOlderCommit_doesNotMoveTheConfirmedOffsetBack() {
    OffsetTracker t = tracker();
    t.committed(9);
    t.committed(4);
    assertThat(t.confirmed()).isEqualTo(9);
  }

  @Test
  void recordsBelowTheEndAtAssignment_mayBeRedeliveries_laterOnesNot() {
    OffsetTracker t = new OffsetTracker(100);
    assertThat(t.mayBeRedelivered(99)).isTrue();
    assertThat(t.mayBeRedelivered(100)).as("produced after the assignment").isFalse();
    assertThat(tracker().mayBeRedelivered(1_000_000))
        .as("end unknown: every record may be one")
        .isTrue();
  }
}
