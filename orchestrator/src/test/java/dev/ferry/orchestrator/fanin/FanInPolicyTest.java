package dev.ferry.orchestrator.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.fanin.FanInPolicy.Verdict;
import dev.ferry.orchestrator.fanin.FanInPolicy.WaitingParent;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FanInPolicyTest {
  private final UUID parent = UUID.randomUUID();
  private final UUID other = UUID.randomUUID();

  private WaitingParent parent(int done, int total, int failed, String policy, String reducer) {
    return new WaitingParent(parent, null, done, total, failed, policy, reducer, 1, null);
  }

  private FanIn.Finished child(UUID parentId, JobStatus status, String error) {
    return new FanIn.Finished(UUID.randomUUID(), parentId, status, error);
  }

  @Test
  void tally_countsEachParentsChildren_andRemembersItsFirstFailure() {
    FanIn.Finished ok = child(parent, JobStatus.SUCCEEDED, null);
    FanIn.Finished firstFail = child(parent, JobStatus.FAILED, "boom");
    FanIn.Finished secondFail = child(parent, JobStatus.FAILED, "again");
    FanIn.Finished cancelled = child(other, JobStatus.CANCELLED, null);
    FanIn.Finished root = child(null, JobStatus.FAILED, "no parent");

    Map<UUID, FanInPolicy.Tally> t =
        FanInPolicy.tally(List.of(ok, firstFail, root, cancelled, secondFail));

    assertThat(t.keySet()).containsExactly(parent, other);
    assertThat(t.get(parent)).isEqualTo(new FanInPolicy.Tally(3, 2, firstFail));
    assertThat(t.get(other)).isEqualTo(new FanInPolicy.Tally(1, 0, null));
  }

  @Test
  void tally_ofJobsWithoutParents_isEmpty() {
    assertThat(FanInPolicy.tally(List.of(child(null, JobStatus.SUCCEEDED, null)))).isEmpty();
  }

  @Test
  void failFast_failsAtTheFirstFailedChild_evenBeforeAllFinished() {
    FanIn.Finished failed = child(parent, JobStatus.FAILED, "boom");
    assertThat(FanInPolicy.decide(parent(1, 5, 1, "fail-fast", null), failed))
        .isEqualTo(new Verdict.FailFast(failed));
    // No policy stored means fail-fast too.
    assertThat(FanInPolicy.decide(parent(5, 5, 1, null, "reduce"), failed))
        .isEqualTo(new Verdict.FailFast(failed));
  }

  @Test
  void collect_completesWhateverTheOutcomes_onceAllFinished() {
    assertThat(FanInPolicy.decide(parent(2, 3, 2, "collect", null), null))
        .isEqualTo(new Verdict.Wait());
    assertThat(FanInPolicy.decide(parent(3, 3, 2, "collect", null), null))
        .isEqualTo(new Verdict.Succeed());
    assertThat(FanInPolicy.decide(parent(3, 3, 3, "collect", "sum"), null))
        .isEqualTo(new Verdict.Reduce());
  }

  @Test
  void allSucceeded_succeedsWithoutReducer_andRunsTheReducerWithOne() {
    assertThat(FanInPolicy.decide(parent(4, 4, 0, "fail-fast", null), null))
        .isEqualTo(new Verdict.Succeed());
    assertThat(FanInPolicy.decide(parent(4, 4, 0, "fail-fast", "sum"), null))
        .isEqualTo(new Verdict.Reduce());
    assertThat(FanInPolicy.decide(parent(3, 4, 0, "fail-fast", "sum"), null))
        .isEqualTo(new Verdict.Wait());
  }

  @Test
  void failFastError_namesTheChildAndItsError() {
    assertThat(FanInPolicy.failFastError("item-4", "boom")).isEqualTo("child item-4 failed: boom");
    assertThat(FanInPolicy.failFastError("item-4", null)).isEqualTo("child item-4 failed");
    assertThat(FanInPolicy.failFastError(null, null)).isEqualTo("child ? failed");
  }
}
