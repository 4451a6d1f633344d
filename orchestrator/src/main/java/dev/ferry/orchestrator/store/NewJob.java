package dev.ferry.orchestrator.store;

import java.time.Instant;
import java.util.UUID;

/**
 * A row to insert into {@code ferry.jobs}; JSON columns as text; the W3C trace context; the id of
 * the submission it came with ({@code rootId}, null for children spawned by a handler): a row is
 * inserted only if that submission is new, so submitting an id again adds no children.
 */
public record NewJob(
    UUID id,
    UUID parentId,
    String type,
    String dependency,
    String payloadJson,
    String status,
    int maxAttempts,
    Instant nextRunAt,
    int timeoutMs,
    String backoffJson,
    String key,
    String failurePolicy,
    int childrenTotal,
    String traceparent,
    UUID rootId,
    String uniqueKey,
    Long uniqueForMs,
    String scheduleName,
    int priority,
    String concurrencyKey,
    Integer concurrencyLimit) {

  /** The default priority: 3. */
  public static final int DEFAULT_PRIORITY = 3;

  /** The same row, created by the schedule {@code name}. */
  public NewJob withScheduleName(String name) {
    return new NewJob(
        id,
        parentId,
        type,
        dependency,
        payloadJson,
        status,
        maxAttempts,
        nextRunAt,
        timeoutMs,
        backoffJson,
        key,
        failurePolicy,
        childrenTotal,
        traceparent,
        rootId,
        uniqueKey,
        uniqueForMs,
        name,
        priority,
        concurrencyKey,
        concurrencyLimit);
  }
}
