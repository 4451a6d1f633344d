package dev.ferry.worker.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * What a handler knows about the attempt it runs. The handler's thread is interrupted when the
 * attempt times out or the job is cancelled: blocking calls then throw {@link
 * InterruptedException}, and long loops should check {@link #isCancelled()} or {@link
 * Thread#isInterrupted()}.
 *
 * @param deadline when the attempt times out
 * @param cancellation tells whether an operator cancelled the job (see {@link #isCancelled()})
 * @param traceparent the job's W3C trace context (pass it on to downstream calls), or null
 */
public record JobContext(
    UUID jobId,
    int attempt,
    String type,
    JsonNode payload,
    String dependency,
    Instant deadline,
    BooleanSupplier cancellation,
    String traceparent) {

  public JobContext(
      UUID jobId,
      int attempt,
      String type,
      JsonNode payload,
      String dependency,
      Instant deadline,
      BooleanSupplier cancellation) {
    this(jobId, attempt, type, payload, dependency, deadline, cancellation, null);
  }

  /** A context that is never cancelled (for tests and direct calls). */
  public JobContext(
      UUID jobId, int attempt, String type, JsonNode payload, String dependency, Instant deadline) {
    this(jobId, attempt, type, payload, dependency, deadline, () -> false);
  }

  /** Whether the job was cancelled while this attempt runs; the handler should stop soon. */
  public boolean isCancelled() {
    return cancellation.getAsBoolean();
  }
}
