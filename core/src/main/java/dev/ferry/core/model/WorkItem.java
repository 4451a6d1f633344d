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
 */
public record WorkItem(
    UUID id, int attempt, long run, String type, JsonNode payload, String dependency,
    long timeoutMs) {}
