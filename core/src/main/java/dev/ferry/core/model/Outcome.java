package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** How an attempt ended. Exhaustively switchable: every kind of ending is one of these. */
public sealed interface Outcome
    permits Outcome.Succeeded, Outcome.Failed, Outcome.TimedOut, Outcome.Deferred, Outcome.Spawned {

  /** The attempt succeeded with a result (may be JSON null). */
  record Succeeded(JsonNode result) implements Outcome {}

  /** The attempt failed; {@code retryable} says whether another attempt may help. */
  record Failed(String error, boolean retryable) implements Outcome {}

  /** The attempt ran past its timeout and was interrupted; retryable. */
  record TimedOut(String error) implements Outcome {}

  /**
   * The job should run again no earlier than {@code until}, without using up an attempt (snooze, or
   * an open circuit breaker).
   */
  record Deferred(Instant until, String reason) implements Outcome {}

  /**
   * The handler spawned child jobs (a JSON array of submissions): the job waits for them and
   * completes with their aggregate (dynamic fan-out).
   */
  record Spawned(JsonNode children) implements Outcome {}
}
