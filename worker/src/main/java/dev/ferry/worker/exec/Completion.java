package dev.ferry.worker.exec;

/**
 * A message from a job thread to the poll thread: the job's thread ended (a concurrency slot
 * is free), or its outcome is durably on the results topic (its offset may be committed).
 */
public sealed interface Completion permits Completion.SlotFreed, Completion.OutcomeStored, Completion.Checked {
  /** The handler thread of this ticket ended. */
  record SlotFreed(Object ticket) implements Completion {}

  /** The outcome of this ticket is acknowledged by the broker. */
  record OutcomeStored(Object ticket) implements Completion {}

  /**
   * The database's verdict on possibly redelivered work items: the {@code runnable} ones may
   * start, the others are stale (null when the check failed: all may start).
   */
  record Checked(Object batch, java.util.Set<String> runnable, Exception error)
      implements Completion {}
}
