package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * One attempt of a job, as produced to {@code ferry.work}.
 *
 * @param attempt the attempt number (1 for the first), as counted against maxAttempts
 * @param run the dispatch's fencing token: reports must echo it to be applied, so a report of an
 *     earlier dispatch of the same job is always recognised as stale
 * @param timeoutMs how long this attempt may run, measured from its start on the worker
 * @param crashes how many workers died while running this job: a job that crashed one is run alone
 *     (nothing else in flight on its worker), so that a crash it causes again is pinned on it and
 *     not on jobs that happened to run beside it
 * @param traceparent the job's W3C trace context, from the record's {@code traceparent} header (not
 *     part of the JSON); null when the record had none
 */
public record WorkItem(
    UUID id,
    int attempt,
    long run,
    String type,
    JsonNode payload,
    String dependency,
    long timeoutMs,
    int crashes,
    String traceparent) {

  public WorkItem(
      UUID id,
      int attempt,
      long run,
      String type,
      JsonNode payload,
      String dependency,
      long timeoutMs,
      int crashes) {
    this(id, attempt, run, type, payload, dependency, timeoutMs, crashes, null);
  }

  public WorkItem(
      UUID id,
      int attempt,
      long run,
      String type,
      JsonNode payload,
      String dependency,
      long timeoutMs) {
    this(id, attempt, run, type, payload, dependency, timeoutMs, 0);
  }

  /** This item with the trace context of the record it came in. */
  public WorkItem withTraceparent(String traceparent) {
    return new WorkItem(
        id, attempt, run, type, payload, dependency, timeoutMs, crashes, traceparent);
  }
}
