package dev.ferry.core.retry;

import java.util.Locale;

/** The shape of the delay between attempts. */
public enum BackoffStrategy {
  /** initial × multiplier^(n−1), capped. */
  EXPONENTIAL,
  /** initial × n, capped. */
  LINEAR,
  /** always initial, capped. */
  FIXED;

  /** The lower-case name used in JSON and configuration. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name; returns null when unknown. */
  public static BackoffStrategy fromWire(String name) {
    for (BackoffStrategy s : values()) {
      if (s.wireName().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
