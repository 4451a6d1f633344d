package dev.ferry.worker.poll;

import dev.ferry.worker.exec.Completion;
import java.util.List;
import java.util.Set;

/**
 * What other threads tell the poll thread, through its queue: a job's completion, or the database's
 * verdict on possibly redelivered records, or start permits granted.
 */
sealed interface LoopEvent permits LoopEvent.Job, LoopEvent.Checked, LoopEvent.Permits {
  /** A job thread's {@link Completion}. */
  record Job(Completion<Ticket> completion) implements LoopEvent {}

  /**
   * The database's verdict on possibly redelivered records: those whose dispatch key is in {@code
   * runnable} may start, the others are stale; {@code runnable} is null when the check failed
   * ({@code error}): all may start.
   */
  record Checked(List<PendingRecord> batch, Set<String> runnable, Exception error)
      implements LoopEvent {}

  /** Start permits for {@code dependency}: {@code wanted} were asked for. */
  record Permits(String dependency, int wanted, dev.ferry.worker.flow.RateGrants.Grant grant)
      implements LoopEvent {}
}
