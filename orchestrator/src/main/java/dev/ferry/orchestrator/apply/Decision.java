package dev.ferry.orchestrator.apply;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.model.JobEvent;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobChange;

/**
 * What applying one report does: a guarded job change, the attempt row to write, and the event to
 * publish if the change holds. {@code givesBackAttempt} removes the attempt row instead (a deferral
 * does not use up an attempt); {@code spawn} holds the children a handler spawned. Built by {@link
 * #of}, {@link #givingBack} and {@link #spawning}.
 */
record Decision(
    JobChange change,
    AttemptRow attempt,
    JobEvent event,
    boolean givesBackAttempt,
    JsonNode spawn) {

  /** A change with its attempt row and event (null for a start notice). */
  static Decision of(JobChange change, AttemptRow attempt, JobEvent event) {
    return new Decision(change, attempt, event, false, null);
  }

  /** A change that gives the attempt back: its attempt row is removed, not written. */
  static Decision givingBack(JobChange change, AttemptRow attempt, JobEvent event) {
    return new Decision(change, attempt, event, true, null);
  }

  /** A change whose job spawned {@code children} (a JSON array of submissions). */
  static Decision spawning(
      JobChange change, AttemptRow attempt, JobEvent event, JsonNode children) {
    return new Decision(change, attempt, event, false, children);
  }
}
