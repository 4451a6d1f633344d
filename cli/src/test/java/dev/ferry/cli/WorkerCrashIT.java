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

/** A worker JVM killed with SIGKILL mid-job: its jobs still succeed on another worker. */
@ExtendWith(FerryExtension.class)
class WorkerCrashIT {

  @Test
  void workerKilledWithSigkill_itsAttemptsAreRescuedAndSucceedOnAnotherWorker(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Process victim = startWorkerProcess(env, config, "victim");
    env.closeAfter(victim::destroyForcibly);

    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(
          env,
          config,
          null,
          "{\"id\":\"" + id + "\",\"type\":\"sleep\",\"payload\":{\"ms\":4000}}");
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'RUNNING' AND worker_id = 'victim'")
                    == ids.size());

    victim.destroyForcibly(); // SIGKILL
    victim.waitFor();
    assertThat(victim.exitValue()).isEqualTo(137);

    Harness.worker(env, config.with(Setting.WORKER_ID, "survivor"));
    for (UUID id : ids) {
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
      Map<String, Object> row = Harness.job(env.dataSource(), id);
      assertThat(row.get("worker_id")).isEqualTo("survivor");
      // The victim's attempt was taken back by the rescuer (not run again from the redelivered
      // record), recorded as lost, and counted as a crash.
      assertThat(row.get("attempts")).isEqualTo(2);
      assertThat(row.get("crashes")).isEqualTo(1);
    }
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE attempt = 1 AND outcome = 'WORKER_LOST'"
                    + " AND worker_id = 'victim' AND error LIKE 'worker victim died while running attempt 1%'"))
        .isEqualTo(ids.size());
    // Nothing ran twice: the sleep handler ran once on the victim (killed) and once on the
    // survivor per job, the redelivered records of attempt 1 were skipped.
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE worker_id = 'survivor'"))
        .isEqualTo(ids.size());
  }

  @Test
  void sigtermDrainsTheWorkerProcess_itsJobsFinishThereAndNothingIsRedelivered(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Process worker = startWorkerProcess(env, config, "drained");
    env.closeAfter(worker::destroyForcibly);
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(
          env,
          config,
          null,
          "{\"id\":\"" + id + "\",\"type\":\"sleep\",\"payload\":{\"ms\":2000}}");
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'RUNNING' AND worker_id = 'drained'")
                    == ids.size());

    worker.destroy(); // SIGTERM
    assertThat(worker.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(worker.exitValue()).as("clean exit after draining").isIn(0, 143);

    for (UUID id : ids) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    }
    // Every work record is committed by the drained worker: nothing will be redelivered.
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            Map.of("bootstrap.servers", env.bootstrapServers()))) {
      long committed =
          admin
              .listConsumerGroupOffsets(config.topicPrefix() + "workers")
              .partitionsToOffsetAndMetadata()
              .get()
              .values()
              .stream()
              .mapToLong(org.apache.kafka.clients.consumer.OffsetAndMetadata::offset)
              .sum();
      assertThat(committed).isEqualTo(ids.size());
    }
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE worker_id = 'drained' AND outcome = 'SUCCEEDED'"))
        .isEqualTo(ids.size());
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.workers WHERE id = 'drained' AND stopped_at IS NOT NULL"))
        .isEqualTo(1);
  }

  private static Process startWorkerProcess(FerryTestEnv env, FerryConfig config, String id)
      throws Exception {
    return Harness.workerProcess(env, config, id);
  }
}
