package dev.ferry.orchestrator.store;

import java.util.UUID;

/** A job the dispatcher has claimed for its next attempt. */
public record ClaimedJob(
    UUID id, int attempt, long run, String type, String payloadJson, String dependency, int timeoutMs,
    int crashes, String traceparent) {}
