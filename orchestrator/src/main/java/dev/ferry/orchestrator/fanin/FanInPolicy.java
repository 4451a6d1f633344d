package dev.ferry.orchestrator.fanin;

import dev.ferry.core.model.JobStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Fan-in's decisions, as pure functions: how a batch of finished children counts for each parent
 * ({@link #tally}), and what a waiting parent does once its counters include them ({@link
 * #decide}):
 *
 * <ul>
 *   <li>under {@code fail-fast} (any policy but {@code collect}), a parent with a failed child
 *       fails with the first failed child's error ({@link #failFastError}) and its remaining
 *       descendants are cancelled;
 *   <li>otherwise, once every child has finished, a parent without a reducer type succeeds with the
 *       aggregate of its children, and one with a reducer type becomes due to run it;
 *   <li>otherwise it keeps waiting.
 * </ul>
 *
 * <p>Unit-tested without a database ({@code FanInPolicyTest}); {@link FanIn} runs the SQL.
 */
final class FanInPolicy {
  private FanInPolicy() {}

  /** The failure policy under which a parent completes whatever its children's outcomes. */
  static final String COLLECT = "collect";

  /** How a batch's finished children count for one parent, and its first failed child. */
  record Tally(int done, int failed, FanIn.Finished firstFailure) {
    Tally plus(FanIn.Finished child) {
      boolean isFailure = child.status() == JobStatus.FAILED;
      return new Tally(
          done + 1,
          failed + (isFailure ? 1 : 0),
          firstFailure == null && isFailure ? child : firstFailure);
    }
  }

  /**
   * A parent still {@code WAITING_CHILDREN} whose counters were just bumped (read back from the
   * counting update).
   *
   * @param reducerType the type of its reducer, null for a parent that completes with the aggregate
   *     (no type, or its handler spawned the children)
   */
  record WaitingParent(
      UUID id,
      UUID parentId,
      int childrenDone,
      int childrenTotal,
      int childrenFailed,
      String failurePolicy,
      String reducerType,
      int attempts,
      String traceparent) {}

  /** What a waiting parent does next. */
  sealed interface Verdict {
    /** Not every child has finished (and none failed under fail-fast). */
    record Wait() implements Verdict {}

    /** Fail-fast: fails with {@code child}'s error (null if it is not in this batch). */
    record FailFast(FanIn.Finished child) implements Verdict {}

    /** Every child finished, no reducer: succeeds with the aggregate. */
    record Succeed() implements Verdict {}

    /** Every child finished, a reducer: becomes due with the aggregate as input. */
    record Reduce() implements Verdict {}
  }

  /** Per parent (in first-seen order), how the finished jobs that have one count for it. */
  static Map<UUID, Tally> tally(List<FanIn.Finished> finished) {
    Map<UUID, Tally> out = new LinkedHashMap<>();
    for (FanIn.Finished f : finished) {
      if (f.parentId() != null) {
        out.put(f.parentId(), out.getOrDefault(f.parentId(), new Tally(0, 0, null)).plus(f));
      }
    }
    return out;
  }

  /**
   * What the parent does, given its counters after this batch and the batch's first failed child of
   * it (null if none).
   */
  static Verdict decide(WaitingParent p, FanIn.Finished firstFailure) {
    boolean failFast = !COLLECT.equals(p.failurePolicy());
    if (failFast && p.childrenFailed() > 0) {
      return new Verdict.FailFast(firstFailure);
    }
    if (p.childrenDone() >= p.childrenTotal()) {
      return p.reducerType() == null ? new Verdict.Succeed() : new Verdict.Reduce();
    }
    return new Verdict.Wait();
  }

  /**
   * The error of a parent failed fast: the failed child by its key ({@code "?"} when it is not
   * known) and its error, if it has one.
   */
  static String failFastError(String childKey, String childError) {
    return "child "
        + (childKey == null ? "?" : childKey)
        + " failed"
        + (childError == null ? "" : ": " + childError);
  }
}
