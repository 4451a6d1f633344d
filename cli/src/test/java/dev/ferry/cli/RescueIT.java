package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.rescue.Rescuer;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker that only looks dead (its heartbeats stopped, its handler still running) has its attempt
 * rescued; the job is retried and succeeds; when the old attempt finally reports, its late outcome
 * is fenced off and changes nothing.
 */
@ExtendWith(FerryExtension.class)
class RescueIT {

  /** First run blocks until released and returns "late"; later runs return "retry". */
  static final class SlowThenFast implements JobHandler {
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch firstStarted = new CountDownLatch(1);
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public String type() {
      return "slow-then-fast";
    }

    @Override
    public JobResult handle(JobContext ctx) throws Exception {
      if (runs.incrementAndGet() == 1) {
        firstStarted.countDown();
        release.await();
        return JobResult.success(FerryJson.parse("\"late\""));
      }
      return JobResult.success(FerryJson.parse("\"retry\""));
    }
  }

  @Test
  void rescuedAttempt_isRetried_andItsLateOutcomeChangesNothing(FerryTestEnv env) throws Exception {
    // The orchestrator's own rescuer waits an hour; the test runs one scan itself.
    FerryConfig config = env.config().with(Setting.RESCUE_AFTER_MS, "3600000");
    Harness.orchestrator(env, config);
    SlowThenFast handler = new SlowThenFast();
    // Heartbeats once at start, then not for an hour: the worker will look dead.
    Harness.worker(
        env,
        config.with(Setting.WORKER_ID, "silent").with(Setting.WORKER_HEARTBEAT_MS, "3600000"),
        handler);
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\"" + id + "\",\"type\":\"slow-then-fast\",\"backoff\":{\"initialMs\":100}}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "RUNNING".equals(Harness.status(env.dataSource(), id)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE id = ? AND updated_at < now() - interval '1 second'",
                        id)
                    == 1);
    Harness.count(
        env.dataSource(),
        "WITH u AS (UPDATE ferry.workers SET heartbeat_at = now() - interval '1 minute'"
            + " WHERE id = 'silent' RETURNING 1) SELECT count(*) FROM u");

    Topics topics = Topics.withPrefix(config.topicPrefix());
    try (var producer = KafkaClients.producer(config, "rescue-test")) {
      Rescuer rescuer =
          new Rescuer(
              env.dataSource(),
              new JobStore(),
              producer,
              topics.events(),
              OrchestratorSettings.from(config).defaultBackoff(),
              Duration.ofSeconds(1),
              Duration.ofSeconds(1),
              3,
              Clock.systemUTC(),
              new SplittableRandom());
      assertThat(rescuer.rescueOnce(100)).isEqualTo(1);
    }
    Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
    Map<String, Object> row = Harness.job(env.dataSource(), id);
    assertThat(row.get("attempts")).isEqualTo(2);
    assertThat(row.get("crashes")).isEqualTo(1);
    assertThat(row.get("result_text")).isEqualTo("\"retry\"");

    // The "dead" worker's first run ends now and reports attempt 1 as SUCCEEDED: too late.
    handler.release.countDown();
    awaitApplierCaughtUp(env, config);
    row = Harness.job(env.dataSource(), id);
    assertThat(row.get("status")).isEqualTo("SUCCEEDED");
    assertThat(row.get("attempts")).isEqualTo(2);
    assertThat(row.get("result_text")).isEqualTo("\"retry\"");
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND attempt = 1"
                    + " AND outcome = 'WORKER_LOST' AND error LIKE 'worker silent died while running attempt 1%'",
                id))
        .isEqualTo(1);
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND outcome = 'SUCCEEDED'",
                id))
        .isEqualTo(1);
    assertThat(handler.runs.get()).isEqualTo(2);
    // The console's per-minute activity: the rescue counted as a retry, the late outcome not.
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT coalesce(sum(retried), 0) FROM ferry.job_activity WHERE type = ?",
                "slow-then-fast"))
        .isEqualTo(1);
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT coalesce(sum(succeeded), 0) FROM ferry.job_activity WHERE type = ?",
                "slow-then-fast"))
        .isEqualTo(1);
  }

  @Test
  void aJobWhoseRescueTheDatabaseRefuses_endsFailedWithTheReason_andTheOthersAreRescued(
      FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.RESCUE_AFTER_MS, "3600000");
    Harness.orchestrator(env, config);
    UUID plain = UUID.randomUUID();
    UUID refused = UUID.randomUUID();
    String later = Instant.now().plusSeconds(3600).toString();
    Harness.submitRaw(
        env, config, 0, "{\"id\":\"" + plain + "\",\"type\":\"noop\",\"runAt\":\"" + later + "\"}");
    Harness.submitRaw(
        env,
        config,
        0,
        "{\"id\":\""
            + refused
            + "\",\"type\":\"noop\",\"runAt\":\""
            + later
            + "\",\"payload\":{\"norescue\":true}}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'PENDING'")
                    == 2);
    // Both were running on a worker that is gone; PostgreSQL refuses to reschedule one of them.
    HostileInputIT.execute(
        env,
        "UPDATE ferry.jobs SET status = 'RUNNING', attempts = 1,"
            + " run_seq = 1, worker_id = 'ghost', started_at = now() - interval '1 minute',"
            + " updated_at = now() - interval '1 minute'");
    HostileInputIT.execute(
        env,
        "ALTER TABLE ferry.jobs ADD CONSTRAINT test_norescue"
            + " CHECK (NOT (status = 'RETRY_WAIT' AND payload ? 'norescue'))");

    Topics topics = Topics.withPrefix(config.topicPrefix());
    try (var producer = KafkaClients.producer(config, "rescue-test")) {
      Rescuer rescuer =
          new Rescuer(
              env.dataSource(),
              new JobStore(),
              producer,
              topics.events(),
              OrchestratorSettings.from(config).defaultBackoff(),
              Duration.ofMillis(500),
              Duration.ofMillis(100),
              3,
              Clock.systemUTC(),
              new SplittableRandom());
      rescuer.start();
      try {
        Harness.awaitStatus(env.dataSource(), refused, "FAILED");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> "RETRY_WAIT".equals(Harness.status(env.dataSource(), plain)));
      } finally {
        rescuer.close();
      }
    }
    assertThat((String) Harness.job(env.dataSource(), refused).get("last_error"))
        .startsWith("could not be rescued: ")
        .contains("test_norescue");
    assertThat((int) Harness.job(env.dataSource(), plain).get("crashes")).isEqualTo(1);
  }

  /** Waits until the outcome applier has consumed every record on the results topic. */
  private static void awaitApplierCaughtUp(FerryTestEnv env, FerryConfig config) throws Exception {
    String results = Topics.withPrefix(config.topicPrefix()).results();
    String group = config.topicPrefix() + "orchestrator-applier";
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", env.bootstrapServers()))) {
      // The late report is produced after release; wait until it is on the topic (4 reports:
      // start and outcome of each attempt), then until the applier committed past all of them.
      await().atMost(Duration.ofSeconds(30)).until(() -> endOffsets(admin, results) >= 4);
      long end = endOffsets(admin, results);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  admin
                          .listConsumerGroupOffsets(group)
                          .partitionsToOffsetAndMetadata()
                          .get()
                          .values()
                          .stream()
                          .mapToLong(OffsetAndMetadata::offset)
                          .sum()
                      >= end);
    }
  }

  private static long endOffsets(Admin admin, String topic) throws Exception {
    var parts =
        admin
            .describeTopics(java.util.List.of(topic))
            .allTopicNames()
            .get()
            .get(topic)
            .partitions()
            .stream()
            .collect(
                java.util.stream.Collectors.toMap(
                    p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
    return admin.listOffsets(parts).all().get().values().stream().mapToLong(i -> i.offset()).sum();
  }
}
