package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A job whose handler kills its JVM is not passed from worker to worker forever: each death is
 * counted by the rescuer, and after {@code poison.max.crashes} the job ends FAILED as poison while
 * the rest of the fleet keeps working.
 */
@ExtendWith(FerryExtension.class)
class PoisonIT {

  @Test
  void jobThatKillsItsWorkers_endsFailedAsPoison_andTheFleetKeepsWorking(FerryTestEnv env)
      throws Exception {
    FerryConfig config =
        env.config().with(Setting.RESCUE_AFTER_MS, "3000").with(Setting.POISON_MAX_CRASHES, "2");
    Harness.orchestrator(env, config);
    List<Process> workers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      workers.add(Harness.workerProcess(env, config, "w" + i));
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.workers WHERE heartbeat_at > now() - interval '2 seconds'")
                    == 4);

    UUID poison = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + poison + "\",\"type\":\"crash\"}");
    List<UUID> others = submitNoops(env, config, 30);

    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "FAILED".equals(Harness.status(env.dataSource(), poison)));
    Map<String, Object> row = Harness.job(env.dataSource(), poison);
    assertThat((String) row.get("last_error"))
        .startsWith("poison: 2 workers died while running this job");
    assertThat(row.get("crashes")).isEqualTo(2);
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND outcome = 'WORKER_LOST'",
                poison))
        .isEqualTo(2);
    // Two deaths counted; on its first delivery the job may kill one more worker before its
    // start is recorded (start notices are sent asynchronously; redelivered jobs wait for it).
    assertThat(workers.stream().filter(p -> !p.isAlive()).count())
        .as("workers killed by the poison job")
        .isBetween(2L, 3L);
    assertThat(workers.stream().filter(p -> !p.isAlive()).mapToInt(Process::exitValue))
        .containsOnly(137);

    // The surviving worker keeps working: earlier and new jobs all succeed.
    others.addAll(submitNoops(env, config, 20));
    for (UUID id : others) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    }
    assertThat(workers.stream().filter(Process::isAlive).count()).isBetween(1L, 2L);
  }

  private static List<UUID> submitNoops(FerryTestEnv env, FerryConfig config, int n)
      throws Exception {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(env, config, null, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    }
    return ids;
  }
}
