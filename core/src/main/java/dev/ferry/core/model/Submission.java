package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.retry.BackoffPolicy;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A validated job submission, as read from {@code ferry.submit}. Optional fields are null when the
 * submitter left them out; defaults are applied by the orchestrator from configuration.
 *
 * @param id the job id; null means "derive one from the record's position" (still idempotent)
 * @param type the handler name; null only for a parent with children
 * @param payload the handler's input, never null ({@code {}} by default)
 * @param children child submissions, empty for a plain job
 * @param unique the deduplication key (top-level jobs only), or null
 * @param schedule the schedule this record defines (top-level only), or null for a job
 * @param priority 1 (most urgent) to 5, or null for the default (3)
 * @param concurrency the fleet-wide per-key limit, or null
 */
public record Submission(
    UUID id,
    String type,
    JsonNode payload,
    String dependency,
    Integer maxAttempts,
    BackoffPolicy backoff,
    Integer timeoutMs,
    Instant runAt,
    String key,
    List<Submission> children,
    FailurePolicy failurePolicy,
    UniqueSpec unique,
    ScheduleSpec schedule,
    Integer priority,
    ConcurrencySpec concurrency) {

  public Submission {
    children = children == null ? List.of() : List.copyOf(children);
  }

  /** Same submission with the given id. */
  public Submission withId(UUID newId) {
    return new Submission(
        newId,
        type,
        payload,
        dependency,
        maxAttempts,
        backoff,
        timeoutMs,
        runAt,
        key,
        children,
        failurePolicy,
        unique,
        schedule,
        priority,
        concurrency);
  }

  /** The job a schedule's tick creates: this template with the tick's id and run time. */
  public Submission forTick(UUID tickId, Instant tick) {
    return new Submission(
        tickId,
        type,
        payload,
        dependency,
        maxAttempts,
        backoff,
        timeoutMs,
        tick,
        key,
        children,
        failurePolicy,
        unique,
        null,
        priority,
        concurrency);
  }

  /** The same submission without its schedule: the template a schedule stores. */
  public Submission withoutSchedule() {
    return new Submission(
        id,
        type,
        payload,
        dependency,
        maxAttempts,
        backoff,
        timeoutMs,
        runAt,
        key,
        children,
        failurePolicy,
        unique,
        null,
        priority,
        concurrency);
  }
}
