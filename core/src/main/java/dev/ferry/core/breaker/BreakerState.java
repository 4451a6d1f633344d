package dev.ferry.core.breaker;

/** The states of a circuit breaker, as stored in {@code ferry.circuit_breakers.state}. */
public enum BreakerState {
  /** Calls go through; outcomes fill the sliding window. */
  CLOSED,
  /** No calls until {@code retry_at}; jobs are deferred without using up attempts. */
  OPEN,
  /** A limited number of trial calls decide between CLOSED and OPEN. */
  HALF_OPEN
}
