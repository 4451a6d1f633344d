package dev.ferry.core.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The retry delay as a pure function of (attempt, policy, random source), so that it can be tested
 * with a seeded generator and reasoned about without a clock.
 */
public final class RetryDelays {
  private RetryDelays() {}

  /**
   * The delay before the attempt that follows failed attempt {@code attempt}.
   *
   * @param attempt the attempt that just failed, starting at 1
   */
  public static Duration delayAfter(int attempt, BackoffPolicy policy, RandomGenerator random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1 but was " + attempt);
    }
    double base =
        switch (policy.strategy()) {
          case EXPONENTIAL -> policy.initialMs() * Math.pow(policy.multiplier(), attempt - 1);
          case LINEAR -> (double) policy.initialMs() * attempt;
          case FIXED -> policy.initialMs();
        };
    double capped = Math.min(base, policy.maxMs());
    double jittered =
        capped + (policy.jitter() == 0 ? 0 : random.nextDouble() * policy.jitter() * capped);
    return Duration.ofMillis(Math.round(jittered));
  }
}
