package dev.ferry.worker.poll;

import java.util.TreeSet;

/**
 * Offsets of one assigned partition that are fetched but not finished. The committable offset
 * is the lowest unfinished one (or one past the highest seen when all are finished): the
 * highest contiguous finished prefix. A new tracker is made for each assignment, so completions
 * from an earlier assignment (an older epoch) are recognised and dropped. Poll thread only.
 */
final class OffsetTracker {
  private final TreeSet<Long> outstanding = new TreeSet<>();
  private long nextOffset = -1;
  private long committed = -1;
  private final long assignedAtNanos = System.nanoTime();
  /** Records below this offset were on the partition when it was assigned (maybe redelivered). */
  private final long endAtAssignment;

  OffsetTracker() {
    this(Long.MAX_VALUE);
  }

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

  /** The offset to commit, or -1 if nothing new can be committed. */
  long committable() {
    long c = outstanding.isEmpty() ? nextOffset : outstanding.first();
    return c > committed ? c : -1;
  }

  void committed(long offset) {
    committed = Math.max(committed, offset);
  }
}
