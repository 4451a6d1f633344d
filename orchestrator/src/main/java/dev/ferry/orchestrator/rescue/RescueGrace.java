package dev.ferry.orchestrator.rescue;

import java.time.Duration;

/**
 * When the rescuer holds back: at start, and after it could not reach the database for longer than
 * {@code rescue.after.ms}, it takes nothing back for twice that long. While the database was away
 * every worker's heartbeat went stale together, although the workers lived on; they need a moment
 * to heartbeat again before silence means death. A pure policy of the times it is told (nanoTime
 * values); not thread-safe (the rescuer's thread owns it).
 */
final class RescueGrace {
  private final long afterNanos;
  private final long gapNanos;
  private long reachedNanos;
  private boolean reachedOnce;
  private long graceUntilNanos;

  /**
   * @param after {@code rescue.after.ms}
   * @param interval the rescuer's poll interval: a gap of three intervals is still no outage
   */
  RescueGrace(Duration after, Duration interval) {
    this.afterNanos = after.toNanos();
    this.gapNanos = Math.max(afterNanos, 3 * interval.toNanos());
  }

  /**
   * The database was reached at {@code now}; returns whether rescues must still wait. A gap since
   * the last time it was reached longer than {@code rescue.after.ms} (or the first time) starts a
   * grace of twice that.
   */
  boolean reached(long now) {
    if (!reachedOnce || now - reachedNanos > gapNanos) {
      graceUntilNanos = now + 2 * afterNanos;
    }
    reachedOnce = true;
    reachedNanos = now;
    return now - graceUntilNanos < 0;
  }

  /** How long the last grace lasts, for the log. */
  Duration length() {
    return Duration.ofNanos(2 * afterNanos);
  }
}
