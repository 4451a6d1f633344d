package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No silent death: a worker whose poll loop fails for good exits non-zero (so a supervisor restarts
 * it) instead of heartbeating as healthy; a handler that ignores interruption after its timeout is
 * counted and does not block the admission of other jobs.
 */
@ExtendWith(FerryExtension.class)
class WorkerLivenessIT {

  @Test
  void workerWhosePollLoopFails_exitsNonZero_andStopsHeartbeating(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    // Two replicas given the same static group member id (a real misconfiguration): Kafka
    // fences the first one, whose consumer can then never poll again.
    Map<String, String> sameId = Map.of("FERRY_KAFKA_GROUP_INSTANCE_ID", "replica-1");
    Path log1 = Files.createTempFile("ferry-fenced", ".log");
    Process first =
        Harness.ferryProcess(
            env, config, merge(sameId, Map.of(Setting.WORKER_ID.env(), "w-first")), log1, "worker");
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.workers WHERE id = 'w-first'"
                            + " AND heartbeat_at > now() - interval '2 seconds'")
                    == 1);
    Process second =
        Harness.ferryProcess(
            env,
            config,
            merge(sameId, Map.of(Setting.WORKER_ID.env(), "w-second")),
            Files.createTempFile("ferry-fencer", ".log"),
            "worker");

    assertThat(first.waitFor(90, TimeUnit.SECONDS)).as("fenced worker exits").isTrue();
    assertThat(first.exitValue()).isEqualTo(5);
    assertThat(Files.readString(log1)).contains("poll loop failed");
    assertThat(second.isAlive()).isTrue();
    // The jobs still run on the replica that is left.
    UUID id = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
  }

  @Test
  void handlerIgnoringInterruption_isCountedAsStuck_andDoesNotBlockOtherJobs(FerryTestEnv env)
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    JobHandler stubborn =
        new JobHandler() {
          @Override
          public String type() {
            return "stubborn";
          }

          @Override
          public JobResult handle(JobContext context) {
            // Swallows every interrupt until the test lets it go.
            while (release.getCount() > 0) {
              LockSupport.parkNanos(10_000_000L);
              Thread.interrupted();
            }
            return JobResult.success(FerryJson.object());
          }
        };
    FerryConfig config = env.config().with(Setting.WORKER_CONCURRENCY, "1");
    Harness.orchestrator(env, config);
    Worker worker = Harness.worker(env, config, stubborn);
    UUID stuck = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        0,
        "{\"id\":\""
            + stuck
            + "\",\"type\":\"stubborn\","
            + "\"timeoutMs\":300,\"maxAttempts\":1}");
    List<UUID> others = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      UUID id = UUID.randomUUID();
      others.add(id);
      Harness.submitRaw(env, config, 0, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    }
    // With its only slot held by the stubborn handler, nothing else could start; once the
    // handler counts as stuck its slot is given back.
    for (UUID id : others) {
      Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
    }
    assertThat(Harness.status(env.dataSource(), stuck)).isEqualTo("FAILED");
    assertThat((String) Harness.job(env.dataSource(), stuck).get("last_error"))
        .contains("timed out after 300 ms");
    assertThat(body(worker)).contains("\"stuckHandlers\":1");
    assertThat(
            MetricsIT.value(
                HostileInputIT.scrape(worker.healthPort()), "ferry_worker_stuck_handlers"))
        .isEqualTo(1.0);

    release.countDown();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> body(worker).contains("\"stuckHandlers\":0"));
  }

  @Test
  void whileKafkaRefusesOutcomes_theWorkerStopsTakingWork_andCatchesUpAfterwards(FerryTestEnv env)
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger runs =
        new java.util.concurrent.atomic.AtomicInteger();
    JobHandler counted =
        new JobHandler() {
          @Override
          public String type() {
            return "counted";
          }

          @Override
          public JobResult handle(JobContext context) {
            runs.incrementAndGet();
            return JobResult.success(FerryJson.object());
          }
        };
    FerryConfig config = env.config().with(Setting.WORKER_CONCURRENCY, "4");
    Harness.orchestrator(env, config);
    Worker worker = Harness.worker(env, config, counted);
    String results = dev.ferry.core.config.Topics.withPrefix(config.topicPrefix()).results();
    // The results topic refuses every record (the broker says each is too large).
    setTopicConfig(env, results, "max.message.bytes", "1");
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(env, config, null, "{\"id\":\"" + id + "\",\"type\":\"counted\"}");
    }
    // concurrency 4, max.poll.records 10: a buffer of 20 records. Outcomes waiting for Kafka
    // count against it, so at most 20 + 4 jobs run before the worker stops taking work.
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(worker.pollLoop().unacknowledged() >= 19 && worker.pollLoop().isPaused())
                    .as(
                        "runs %d, unacknowledged %d, paused %s, in flight %d",
                        runs.get(),
                        worker.pollLoop().unacknowledged(),
                        worker.pollLoop().isPaused(),
                        worker.pollLoop().inFlight())
                    .isTrue());
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> runs.get() <= 24);
    assertThat(body(worker)).contains("\"unacknowledgedOutcomes\":");

    setTopicConfig(env, results, "max.message.bytes", "1048588");
    await()
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                Harness.countIds(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE id = ANY(?) AND status IN ('SUCCEEDED', 'FAILED')",
                        ids)
                    == 300);
  }

  private static void setTopicConfig(FerryTestEnv env, String topic, String name, String value)
      throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            Map.of("bootstrap.servers", env.bootstrapServers()))) {
      var resource =
          new org.apache.kafka.common.config.ConfigResource(
              org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
      admin
          .incrementalAlterConfigs(
              Map.of(
                  resource,
                  List.of(
                      new org.apache.kafka.clients.admin.AlterConfigOp(
                          new org.apache.kafka.clients.admin.ConfigEntry(name, value),
                          org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
          .all()
          .get();
    }
  }

  private static String body(Worker w) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.healthPort() + "/health"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
    Map<String, String> m = new java.util.HashMap<>(a);
    m.putAll(b);
    return m;
  }
}
