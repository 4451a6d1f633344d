package dev.ferry.worker.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.UUID;

/**
 * What a handler knows about the attempt it runs. The handler's thread is interrupted when the
 * attempt times out or is cancelled: blocking calls then throw {@link InterruptedException},
 * and long loops should check {@link Thread#isInterrupted()}.
 *
 * @param deadline when the attempt times out
 */
public record JobContext(
    UUID jobId, int attempt, String type, JsonNode payload, String dependency, Instant deadline) {}
