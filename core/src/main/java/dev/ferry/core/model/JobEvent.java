package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.UUID;

/** A lifecycle event published to {@code ferry.events}. */
public record JobEvent(
    UUID jobId,
    UUID parentId,
    JobStatus status,
    int attempt,
    JsonNode result,
    String error,
    Instant at) {}
