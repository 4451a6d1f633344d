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
    String traceparent,
    int priority) {

  /** Priorities 1 and 2 go out on the urgent work topic. */
  public static final int URGENT_MAX = 2;

  /** Whether its work item goes out on the urgent work topic. */
  public boolean urgent() {
    return priority <= URGENT_MAX;
  }

  /** The first attempt (and run) of a new job, as the dispatcher's claim would have made it. */
  public static ClaimedJob firstAttempt(NewJob j) {
    return new ClaimedJob(
        j.id(),
        1,
        1,
        j.type(),
        j.payloadJson(),
        j.dependency(),
        j.timeoutMs(),
        0,
        j.traceparent(),
        j.priority());
  }
}
