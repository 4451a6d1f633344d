package dev.ferry.core.breaker;

import java.time.Instant;

/**
 * The shared state of one dependency's breaker, as in {@code ferry.circuit_breakers}.
 *
 * @param generation incremented on every state transition; replicas compare it to know whether
 *     their local view is current
 * @param epoch the admission epoch: incremented on every transition and whenever HALF_OPEN hands
 *     out its trial permits anew (the earlier ones expired). Calls carry the epoch they were
 *     admitted in; in HALF_OPEN only outcomes of calls admitted in the current epoch are trial
 *     results, so a call admitted before a trip, or under an expired permit, never counts as (or
 *     completes) one of the trial calls
 * @param trips consecutive trips without a close in between (grows the OPEN duration)
 * @param halfOpenPermits trial calls granted in the current HALF_OPEN period
 * @param halfOpenSuccesses successful trial calls in the current HALF_OPEN period
 * @param forced {@code OPEN} or {@code CLOSED} when an operator forced the state (no automatic
 *     transitions then), else null
 */
public record BreakerSnapshot(
    String dependency,
    BreakerState state,
    long generation,
    long epoch,
    SlidingWindow window,
    Instant openedAt,
    Instant retryAt,
    int trips,
    int halfOpenPermits,
    int halfOpenSuccesses,
    BreakerState forced,
    Instant since) {

  /** A new, closed breaker. */
  public static BreakerSnapshot closed(String dependency, BreakerConfig c, Instant now) {
    return new BreakerSnapshot(
        dependency,
        BreakerState.CLOSED,
        0,
        0,
        SlidingWindow.empty(c.windowType(), c.windowSize()),
        null,
        null,
        0,
        0,
        0,
        null,
        now);
  }
}
