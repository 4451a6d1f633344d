package dev.ferry.worker.poll;

import java.util.TreeSet;

/**
 * Offsets of one assigned partition that are fetched but not finished. The committable offset is
 * the lowest unfinished one (or one past the highest seen when all are finished): the highest
 * contiguous finished prefix. A new tracker is made for each assignment, so completions from an
 * earlier assignment (an older epoch) are recognised and dropped. Poll thread only.
 */
final class OffsetTracker {
  private final TreeSet<Long> outstanding = new TreeSet<>();
  private long nextOffset = -1;

  /** The highest offset whose commit the broker confirmed. */
  private long committed = -1;

  /** The highest offset in an asynchronous commit that is sent (maybe not yet answered). */
  private long sent = -1;

  private final long assignedAtNanos = System.nanoTime();

  /** Records below this offset were on the partition when it was assigned (maybe redelivered). */
  private final long endAtAssignment;

  /**
   * @param endAtAssignment the partition's end offset when it was assigned ({@code Long.MAX_VALUE}
   *     when unknown: every record may be a redelivery)
   */
  OffsetTracker(long endAtAssignment) {
    this.endAtAssignment = endAtAssignment;
  }

  /** Whether a record may have been fetched by the partition's previous owner. */
  boolean mayBeRedelivered(long offset) {
    return offset < endAtAssignment;
  }

  /** When the partition was assigned (this tracker made). */
  long assignedAtNanos() {
    return assignedAtNanos;
  }

  void received(long offset) {
    outstanding.add(offset);
    nextOffset = Math.max(nextOffset, offset + 1);
  }

  void finished(long offset) {
    outstanding.remove(offset);
  }

  private long nextToCommit() {
    return outstanding.isEmpty() ? nextOffset : outstanding.first();
  }

  /**
   * The offset for an asynchronous commit, or -1 if nothing new can be committed: not what the
   * broker confirmed, nor what an unanswered commit already carries.
   */
  long committable() {
    long c = nextToCommit();
    return c > Math.max(committed, sent) ? c : -1;
  }

  /**
   * The offset for a synchronous commit (revocation, shutdown), or -1: anything the broker has not
   * confirmed, even if an asynchronous commit of it is still unanswered.
   */
  long uncommitted() {
    long c = nextToCommit();
    return c > committed ? c : -1;
  }

  /** An asynchronous commit of {@code offset} was sent; not committed until it succeeds. */
  void commitSent(long offset) {
    sent = Math.max(sent, offset);
  }

  /** The broker confirmed a commit of {@code offset}. */
  void committed(long offset) {
    committed = Math.max(committed, offset);
  }

  /** A commit failed: whatever is not confirmed is offered again by {@link #committable()}. */
  void commitFailed() {
    sent = committed;
  }

  /** The highest offset the broker confirmed, or -1. */
  long confirmed() {
    return committed;
  }
}
