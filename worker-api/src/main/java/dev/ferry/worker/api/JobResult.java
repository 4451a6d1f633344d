package dev.ferry.worker.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;

/**
 * What a handler returns: a value, not an exception, for every ending it chooses. (Any exception a
 * handler throws is also recorded: as a retryable failure, or non-retryable for {@link
 * NonRetryableException}.)
 */
public sealed interface JobResult
    permits JobResult.Success, JobResult.Retry, JobResult.Fail, JobResult.Snooze, JobResult.Spawn {

  /** Success with a JSON result (may be null). */
  record Success(JsonNode result) implements JobResult {}

  /** A failure that another attempt may fix (uses up an attempt). */
  record Retry(String error) implements JobResult {}

  /** A failure no retry can fix: the job ends FAILED at once. */
  record Fail(String error) implements JobResult {}

  /** Run again after {@code delay} without using up an attempt. */
  record Snooze(Duration delay) implements JobResult {}

  /**
   * Spawn child jobs (dynamic fan-out): each a submission object, as in {@code children}. The job
   * waits for them and completes with their aggregate; its handler does not run again.
   */
  record Spawn(List<JsonNode> children) implements JobResult {
    public Spawn {
      if (children == null || children.isEmpty()) {
        throw new IllegalArgumentException("spawn needs at least one child");
      }
      children = List.copyOf(children);
    }
  }

  static JobResult spawn(List<? extends JsonNode> children) {
    return new Spawn(List.copyOf(children));
  }

  static JobResult success(JsonNode result) {
    return new Success(result);
  }

  static JobResult retry(String error) {
    return new Retry(error);
  }

  static JobResult fail(String error) {
    return new Fail(error);
  }

  static JobResult snooze(Duration delay) {
    return new Snooze(delay);
  }
}
