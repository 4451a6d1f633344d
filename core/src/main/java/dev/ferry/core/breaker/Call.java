package dev.ferry.core.breaker;

/**
 * One call's outcome as the breaker counts it. Failures are 5xx, 429, timeouts and connect errors
 * (a handler's retryable failure); a non-retryable failure such as a 4xx means the dependency
 * answered, so it is not a failure.
 */
public record Call(boolean failure, boolean slow) {
  public static final Call SUCCESS = new Call(false, false);
  public static final Call FAILURE = new Call(true, false);
}
