package dev.ferry.core.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds the distinct values of one meter tag whose values come from users (job types,
 * dependencies): the first {@code max} distinct values are kept as they are, every later one is
 * counted under {@value #OTHER}. So a flood of jobs with random types cannot create a meter per
 * type and exhaust memory (or the metrics backend). Thread-safe; the admitted set never holds more
 * than {@code max} values.
 */
public final class TagCap {
  /** The tag value that stands for every value beyond the cap. */
  public static final String OTHER = "other";

  private final int max;
  private final Set<String> admitted = ConcurrentHashMap.newKeySet();

  /**
   * @param max distinct values kept ({@code metrics.max.tags}), at least 1
   */
  public TagCap(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("metrics.max.tags must be >= 1 but was " + max);
    }
    this.max = max;
  }

  /**
   * The value to tag with: {@code value} itself while there is room for it, else {@value #OTHER}.
   */
  public String tag(String value) {
    if (admitted.contains(value)) {
      return value;
    }
    synchronized (this) {
      if (admitted.size() < max) {
        admitted.add(value);
        return value;
      }
    }
    return admitted.contains(value) ? value : OTHER;
  }

  /** How many distinct values have their own tag. */
  public int size() {
    return admitted.size();
  }

  /** The cap. */
  public int max() {
    return max;
  }
}
