package dev.ferry.worker.exec;

/**
 * A message from a job thread to whoever started the job (the poll thread): the job's thread ended
 * (a concurrency slot is free), or its outcome is durably on the results topic (its offset may be
 * committed). The {@code ticket} is the starter's own handle of the job, handed back as it was
 * given to {@link JobRunner#start}, so the starter needs no casts.
 *
 * @param <T> the starter's ticket type
 */
public sealed interface Completion<T> permits Completion.SlotFreed, Completion.OutcomeStored {
  /** The ticket given to {@link JobRunner#start} or {@link JobRunner#defer}. */
  T ticket();

  /** The handler thread of this ticket ended (or was abandoned as stuck). */
  record SlotFreed<T>(T ticket) implements Completion<T> {}

  /** The outcome of this ticket is acknowledged by the broker. */
  record OutcomeStored<T>(T ticket) implements Completion<T> {}
}
