package dev.ferry.orchestrator.apply;

import dev.ferry.core.model.JobEvent;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobChange;

/**
 * What applying one report does: a guarded job change, the attempt row to write, and the
 * event to publish if the change holds. {@code givesBackAttempt} removes the attempt row
 * instead (a deferral does not use up an attempt).
 */
record Decision(
    JobChange change, AttemptRow attempt, JobEvent event, boolean givesBackAttempt,
    com.fasterxml.jackson.databind.JsonNode spawn) {

  Decision(JobChange change, AttemptRow attempt, JobEvent event, boolean givesBackAttempt) {
    this(change, attempt, event, givesBackAttempt, null);
  }
}
