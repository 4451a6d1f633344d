package dev.ferry.core.model;

import java.util.EnumSet;
import java.util.Set;

/** The lifecycle statuses of a job, exactly as stored in {@code ferry.jobs.status}. */
public enum JobStatus {
  /** Accepted, waiting for its run time or for dispatch. */
  PENDING,
  /** Produced to the work topic. */
  QUEUED,
  /** A worker has started the current attempt. */
  RUNNING,
  /** An attempt failed; {@code next_run_at} says when it runs again. */
  RETRY_WAIT,
  /** A parent waiting for its children (fan-in). */
  WAITING_CHILDREN,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  private static final Set<JobStatus> TERMINAL = EnumSet.of(SUCCEEDED, FAILED, CANCELLED);

  /** Whether no further attempt will run. */
  public boolean isTerminal() {
    return TERMINAL.contains(this);
  }
}
