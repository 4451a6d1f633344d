package dev.ferry.core.retry;

/**
 * How long to wait before the next attempt. Immutable and validated on construction, so a policy
 * that exists is a policy that works.
 *
 * @param strategy the shape of the delay
 * @param initialMs the first delay, &gt;= 0
 * @param multiplier growth factor for {@link BackoffStrategy#EXPONENTIAL}, &gt;= 1
 * @param maxMs cap on any delay, &gt;= initialMs
 * @param jitter fraction in [0, 1]: a uniform random 0…jitter×delay is added
 */
public record BackoffPolicy(
    BackoffStrategy strategy, long initialMs, double multiplier, long maxMs, double jitter) {

  /** Ferry's documented default: exponential from 1 s, ×2, capped at 5 min, jitter 0.1. */
  public static final BackoffPolicy DEFAULT =
      new BackoffPolicy(BackoffStrategy.EXPONENTIAL, 1_000, 2.0, 300_000, 0.1);

  public BackoffPolicy {
    if (strategy == null) {
      throw new IllegalArgumentException("backoff.strategy must be set");
    }
    if (initialMs < 0) {
      throw new IllegalArgumentException("backoff.initialMs must be >= 0 but was " + initialMs);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("backoff.multiplier must be >= 1 but was " + multiplier);
    }
    if (maxMs < initialMs) {
      throw new IllegalArgumentException(
          "backoff.maxMs must be >= initialMs (" + initialMs + ") but was " + maxMs);
    }
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException("backoff.jitter must be in [0, 1] but was " + jitter);
    }
  }
}
