package dev.ferry.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.WorkItem;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Cancellations against running and later attempts, by run; on the test's own thread. */
class CancellationRegistryTest {
  private final CancellationRegistry registry = new CancellationRegistry();
  private final UUID id = UUID.randomUUID();

  private WorkItem run(long run) {
    return new WorkItem(id, 1, run, "t", FerryJson.object(), null, 30_000);
  }

  @AfterEach
  void clearInterrupt() {
    boolean ignored = Thread.interrupted();
  }

  @Test
  void cancellingARunningAttempt_interruptsItsThreadOnce() {
    CancellationRegistry.Running r = registry.register(run(3));
    assertThat(r.isCancelled()).isFalse();
    registry.cancel(Map.of(id, 3L));
    assertThat(r.isCancelled()).isTrue();
    assertThat(Thread.interrupted()).isTrue();
    registry.cancel(Map.of(id, 3L));
    assertThat(Thread.interrupted()).as("not interrupted twice").isFalse();
  }

  @Test
  void aCancellationOfAnEarlierRun_leavesALaterRunAlone() {
    CancellationRegistry.Running r = registry.register(run(4));
    registry.cancel(Map.of(id, 3L));
    assertThat(r.isCancelled()).isFalse();
    assertThat(Thread.interrupted()).isFalse();
  }

  @Test
  void workItemsOfACancelledRun_arriveCancelled_aLaterRunDoesNot() {
    registry.cancel(Map.of(id, 5L));
    assertThat(registry.register(run(5)).isCancelled()).isTrue();
    assertThat(registry.register(run(4)).isCancelled()).isTrue();
    assertThat(registry.register(run(6)).isCancelled()).as("re-driven after the cancel").isFalse();
  }

  @Test
  void anEndedAttempt_isNoLongerRunning_andNotInterrupted() {
    CancellationRegistry.Running r = registry.register(run(1));
    assertThat(registry.isRunning(id, r)).isTrue();
    registry.unregister(id, r);
    assertThat(registry.isRunning(id, r)).isFalse();
    registry.cancel(Map.of(id, 1L));
    assertThat(Thread.interrupted()).isFalse();
  }
}
