package dev.ferry.core.json;

/**
 * Limits applied to every submission before it is accepted.
 *
 * @param maxBytes largest accepted record value, in bytes
 * @param maxDepth deepest accepted JSON nesting (objects and arrays), counted over the whole record
 *     including payloads and children
 * @param maxChildren most children accepted in one submission, counted over the whole tree
 */
public record SubmissionLimits(int maxBytes, int maxDepth, int maxChildren) {
  /** 1 MiB, depth 64, 100,000 children. */
  public static final SubmissionLimits DEFAULT = new SubmissionLimits(1 << 20, 64, 100_000);

  public SubmissionLimits {
    if (maxBytes < 64) {
      throw new IllegalArgumentException("submit.max.bytes must be >= 64 but was " + maxBytes);
    }
    if (maxDepth < 4) {
      throw new IllegalArgumentException("submit.max.depth must be >= 4 but was " + maxDepth);
    }
    if (maxChildren < 0) {
      throw new IllegalArgumentException("submit.max.children must be >= 0 but was " + maxChildren);
    }
  }
}
