package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * One attempt of a job, as produced to {@code ferry.work}. The attempt number fences outcomes:
 * an outcome for an older attempt than the job's current one is ignored.
 *
 * @param timeoutMs how long this attempt may run, measured from its start on the worker
 */
public record WorkItem(
    UUID id, int attempt, String type, JsonNode payload, String dependency, long timeoutMs) {}
