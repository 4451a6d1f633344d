package dev.ferry.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
  @Test
  void committable_isTheHighestContiguousFinishedOffset() {
    OffsetTracker t = new OffsetTracker(Long.MAX_VALUE);
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
  void anOffsetIsCommittedOnlyOnceTheBrokerConfirmsIt() {
    OffsetTracker t = new OffsetTracker(Long.MAX_VALUE);
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
  void aFailedCommit_isOfferedAgain_evenWithNoNewProgress() {
    OffsetTracker t = new OffsetTracker(Long.MAX_VALUE);
    t.received(5);
    t.finished(5);
    t.commitSent(6);
    t.commitFailed();
    assertThat(t.confirmed()).isEqualTo(-1);
    assertThat(t.committable()).as("an idle partition must not keep its offset uncommitted")
        .isEqualTo(6);
  }

  @Test
  void aLateFailureOfAnOlderCommit_doesNotUndoAConfirmedNewerOne() {
    OffsetTracker t = new OffsetTracker(Long.MAX_VALUE);
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
}
