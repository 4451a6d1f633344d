package dev.ferry.orchestrator.store;

import java.util.UUID;

/**
 * A job's attempt that goes out as a work item: claimed by the dispatcher, or queued by intake
 * itself ({@link #firstAttempt}).
 */
public record ClaimedJob(
    UUID id,
    int attempt,
    long run,
    String type,
    String payloadJson,
    String dependency,
    int timeoutMs,
    int crashes,
    String traceparent) {

  /** The first attempt (and run) of a new job, as the dispatcher's claim would have made it. */
  public static ClaimedJob firstAttempt(NewJob j) {
    return new ClaimedJob(
        j.id(), 1, 1, j.type(), j.payloadJson(), j.dependency(), j.timeoutMs(), 0, j.traceparent());
  }
}
