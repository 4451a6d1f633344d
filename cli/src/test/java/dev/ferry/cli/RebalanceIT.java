package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A second worker joins while the first runs jobs: cooperative-sticky assignment moves half the
 * partitions, and the jobs in flight on them are either finished within the grace period and
 * committed by the first worker, or left running there and skipped by the new owner. Either way
 * every handler runs exactly once and every outcome is applied once.
 */
@ExtendWith(FerryExtension.class)
class RebalanceIT {

  /** Sleeps {@code ms} and counts its runs per job. */
  static final class CountingSleep implements JobHandler {
    final Map<UUID, AtomicInteger> runs = new ConcurrentHashMap<>();

    @Override
    public String type() {
      return "counted-sleep";
    }

    @Override
    public JobResult handle(JobContext ctx) throws Exception {
      runs.computeIfAbsent(ctx.jobId(), k -> new AtomicInteger()).incrementAndGet();
      Thread.sleep(ctx.payload().path("ms").asLong()); // simulated work
      return JobResult.success(null);
    }
  }

  @Test
  void revokedInFlightJobs_finishWithinTheGraceAndAreNotRunAgain(FerryTestEnv env)
      throws Exception {
    Worker[] workers = run(env, 6_000);
    assertThat(workers[0].pollLoop().staleSkipped() + workers[1].pollLoop().staleSkipped())
        .as("nothing left to the new owner")
        .isZero();
  }

  @Test
  void revokedJobsStillRunningAfterTheGrace_areSkippedByTheNewOwner(FerryTestEnv env)
      throws Exception {
    Worker[] workers = run(env, 100);
    assertThat(workers[1].pollLoop().staleSkipped())
        .as("records of jobs still running on the old owner, skipped by the new one")
        .isPositive();
  }

  private Worker[] run(FerryTestEnv env, int graceMs) throws Exception {
    FerryConfig config =
        env.config()
            .with(Setting.WORKER_REVOKE_GRACE_MS, String.valueOf(graceMs))
            .with(Setting.WORKER_CONCURRENCY, "50");
    Harness.orchestrator(env, config);
    CountingSleep handler = new CountingSleep();
    Worker a = Harness.worker(env, config.with(Setting.WORKER_ID, "a"), handler);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.pollLoop().assignedPartitions() == 8); // work + urgent
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(
          env,
          config,
          null,
          "{\"id\":\"" + id + "\",\"type\":\"counted-sleep\",\"payload\":{\"ms\":3000}}");
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'RUNNING' AND worker_id = 'a'")
                    == ids.size());

    Worker b = Harness.worker(env, config.with(Setting.WORKER_ID, "b"), handler);
    await().atMost(Duration.ofSeconds(60)).until(() -> b.pollLoop().assignedPartitions() > 0);
    assertThat(a.pollLoop().revocations()).isPositive();

    for (UUID id : ids) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    }
    for (UUID id : ids) {
      assertThat(handler.runs.get(id).get()).as("runs of %s", id).isEqualTo(1);
      assertThat(Harness.job(env.dataSource(), id).get("attempts")).isEqualTo(1);
    }
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE worker_id = 'a' AND outcome = 'SUCCEEDED'"))
        .isEqualTo(ids.size());
    return new Worker[] {a, b};
  }
}
