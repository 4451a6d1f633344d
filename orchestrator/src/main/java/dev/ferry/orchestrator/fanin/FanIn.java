package dev.ferry.orchestrator.fanin;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Fan-in: applies children that just finished to their parents, in the transaction that finished
 * them. Per batch each parent's counters are bumped once (one statement for all parents), so a
 * parent with 100,000 children is not a hot row per child; a child is counted exactly once because
 * only the guarded update that made it terminal reports it here.
 *
 * <p>A parent whose children are all finished completes: without a {@code type} it becomes {@code
 * SUCCEEDED} with the aggregate as its result; with a {@code type} it becomes {@code PENDING} and
 * its handler runs once with {@code {"payload": …, "children": aggregate}} as input (reduce); a job
 * whose handler spawned the children (dynamic fan-out) completes like a parent without type. Under
 * {@code fail-fast} the first {@code FAILED} child cancels the remaining descendants and fails the
 * parent with that child's error; under {@code collect} the parent completes whatever its
 * children's outcomes, the aggregate listing each. Parents that finish are applied to their own
 * parents in turn, up the tree.
 *
 * <p>Those decisions are {@link FanInPolicy}'s (pure, unit-tested); the statements are {@link
 * FanInStore}'s. Stateless and thread-safe.
 */
public final class FanIn {
  /** Why the descendants of a parent that failed fast are cancelled. */
  private static final String SIBLING_FAILED = "cancelled: a sibling failed (fail-fast)";

  private static final FanInStore STORE = new FanInStore();

  /** A job that just became terminal. */
  public record Finished(UUID id, UUID parentId, JobStatus status, String error) {}

  /**
   * What fan-in did: events to publish (with each parent's trace context), and whether a reducer
   * became due.
   */
  public record Effects(List<JobEvent> events, Map<UUID, String> traces, boolean due) {}

  /** Applies finished jobs to their parents, recursively. */
  public Effects apply(Connection c, List<Finished> finished, Instant now) throws SQLException {
    List<JobEvent> events = new ArrayList<>();
    Map<UUID, String> traces = new HashMap<>();
    boolean due = false;
    Map<UUID, FanInPolicy.Tally> tallies = FanInPolicy.tally(finished);
    while (!tallies.isEmpty()) {
      List<Finished> next = new ArrayList<>();
      STORE.lockParents(c, tallies.keySet());
      for (FanInPolicy.WaitingParent p : STORE.count(c, tallies)) {
        if (p.traceparent() != null) {
          traces.put(p.id(), p.traceparent());
        }
        switch (FanInPolicy.decide(p, tallies.get(p.id()).firstFailure())) {
          case FanInPolicy.Verdict.FailFast(Finished child) -> {
            String error =
                FanInPolicy.failFastError(
                    child == null ? null : STORE.keyOf(c, child.id()),
                    child == null ? null : child.error());
            STORE.cancelDescendants(c, List.of(p.id()), SIBLING_FAILED);
            STORE.fail(c, p.id(), error);
            events.add(
                new JobEvent(
                    p.id(), p.parentId(), JobStatus.FAILED, p.attempts(), null, error, now));
            next.add(new Finished(p.id(), p.parentId(), JobStatus.FAILED, error));
          }
          case FanInPolicy.Verdict.Succeed() -> {
            String result = STORE.complete(c, p.id());
            events.add(
                new JobEvent(
                    p.id(),
                    p.parentId(),
                    JobStatus.SUCCEEDED,
                    p.attempts(),
                    FerryJson.parse(result),
                    null,
                    now));
            next.add(new Finished(p.id(), p.parentId(), JobStatus.SUCCEEDED, null));
          }
          case FanInPolicy.Verdict.Reduce() -> {
            STORE.reduce(c, p.id());
            due = true;
          }
          case FanInPolicy.Verdict.Wait() -> {
            // more children to come
          }
        }
      }
      tallies = FanInPolicy.tally(next);
    }
    return new Effects(events, traces, due);
  }

  /** Cancels every non-terminal descendant; returns how many were cancelled. */
  public static int cancelDescendants(Connection c, List<UUID> roots, String reason)
      throws SQLException {
    return STORE.cancelDescendants(c, roots, reason);
  }
}
