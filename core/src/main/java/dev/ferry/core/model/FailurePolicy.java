package dev.ferry.core.model;

import java.util.Locale;

/** How a fan-out parent reacts to a failed child. */
public enum FailurePolicy {
  /** The first failed child cancels its siblings and fails the parent. */
  FAIL_FAST("fail-fast"),
  /** The parent waits for every child and lists successes and failures. */
  COLLECT("collect");

  private final String wireName;

  FailurePolicy(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in JSON, e.g. {@code fail-fast}. */
  public String wireName() {
    return wireName;
  }

  /** Parses a wire name; returns null when unknown. */
  public static FailurePolicy fromWire(String name) {
    for (FailurePolicy p : values()) {
      if (p.wireName.equals(name.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    return null;
  }
}
