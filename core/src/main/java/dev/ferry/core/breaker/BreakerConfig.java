package dev.ferry.core.breaker;

import java.time.Duration;

/**
 * Settings of one dependency's circuit breaker, with Resilience4j's meaning. Immutable; validated
 * on construction with messages that name the setting and the bad value.
 *
 * @param windowType count- or time-based sliding window
 * @param windowSize calls (COUNT) or seconds (TIME) in the window
 * @param minimumCalls calls needed in the window before the rates are evaluated
 * @param failureRateThreshold percentage of failed calls that opens the breaker
 * @param slowCallMs a call slower than this is slow
 * @param slowCallRateThreshold percentage of slow calls that opens the breaker (100 = never by
 *     slowness alone unless every call is slow)
 * @param openMs how long the breaker stays OPEN after its first trip
 * @param openMultiplier growth of the OPEN duration on each consecutive trip (1 = constant)
 * @param openMaxMs cap on the OPEN duration
 * @param halfOpenCalls trial calls permitted cluster-wide in HALF_OPEN; that many successes close
 *     the breaker, one failure re-opens it
 * @param bulkhead most concurrent calls per worker to this dependency (0 = only the worker's global
 *     limit)
 */
public record BreakerConfig(
    WindowType windowType,
    int windowSize,
    int minimumCalls,
    double failureRateThreshold,
    long slowCallMs,
    double slowCallRateThreshold,
    long openMs,
    double openMultiplier,
    long openMaxMs,
    int halfOpenCalls,
    int bulkhead) {

  /**
   * The documented defaults: count window of 20 calls, at least 5 calls, opens at 50 % failed (or
   * 100 % slower than 60 s), stays open 30 s (doubling on consecutive trips up to 5 min), then 3
   * trial calls; no bulkhead.
   */
  public static final BreakerConfig DEFAULT =
      new BreakerConfig(WindowType.COUNT, 20, 5, 50.0, 60_000, 100.0, 30_000, 2.0, 300_000, 3, 0);

  public BreakerConfig {
    if (windowType == null) {
      throw new IllegalArgumentException("breaker.window.type must be count or time");
    }
    require(
        windowSize >= 1 && windowSize <= 10_000,
        "breaker.window.size",
        "between 1 and 10000",
        windowSize);
    require(minimumCalls >= 1, "breaker.minimum.calls", ">= 1", minimumCalls);
    require(
        failureRateThreshold > 0 && failureRateThreshold <= 100,
        "breaker.failure.rate.threshold",
        "in (0, 100]",
        failureRateThreshold);
    require(slowCallMs >= 1, "breaker.slow.call.ms", ">= 1", slowCallMs);
    require(
        slowCallRateThreshold > 0 && slowCallRateThreshold <= 100,
        "breaker.slow.call.rate.threshold",
        "in (0, 100]",
        slowCallRateThreshold);
    require(openMs >= 1, "breaker.open.ms", ">= 1", openMs);
    require(openMultiplier >= 1, "breaker.open.multiplier", ">= 1", openMultiplier);
    require(
        openMaxMs >= openMs,
        "breaker.open.max.ms",
        ">= breaker.open.ms (" + openMs + ")",
        openMaxMs);
    require(halfOpenCalls >= 1, "breaker.half.open.calls", ">= 1", halfOpenCalls);
    require(bulkhead >= 0, "breaker.bulkhead", ">= 0", bulkhead);
  }

  private static void require(boolean ok, String name, String expected, Object actual) {
    if (!ok) {
      throw new IllegalArgumentException(name + " must be " + expected + " but was " + actual);
    }
  }

  /** How long the breaker stays OPEN after its {@code trips}-th consecutive trip (1-based). */
  public Duration openDuration(int trips) {
    double ms = openMs * Math.pow(openMultiplier, Math.max(0, trips - 1));
    return Duration.ofMillis((long) Math.min(ms, openMaxMs));
  }
}
