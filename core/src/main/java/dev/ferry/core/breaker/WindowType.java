package dev.ferry.core.breaker;

/** How the sliding window of a breaker is measured. */
public enum WindowType {
  /** The last {@code windowSize} calls. */
  COUNT,
  /** The calls of the last {@code windowSize} seconds. */
  TIME
}
