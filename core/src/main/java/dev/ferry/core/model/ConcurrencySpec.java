package dev.ferry.core.model;

/**
 * A submission's {@code concurrency}: fleet-wide, at most {@code limit} jobs with this {@code key}
 * are {@code QUEUED}, {@code RUNNING} or {@code RETRY_WAIT} at once, started in submission order
 * (DESIGN section 11). {@code limit} 1 gives strict per-key ordering.
 */
public record ConcurrencySpec(String key, int limit) {}
