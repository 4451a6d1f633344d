package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code unique} (DESIGN section 11) through real Kafka and PostgreSQL: submissions of one key
 * arriving on every partition, to two orchestrators, at the same moment.
 */
@ExtendWith(FerryExtension.class)
class UniqueJobsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** Waits until the orchestrators' intake has committed past every record on the topic. */
  static void awaitIntakeCaughtUp(FerryTestEnv env, FerryConfig config) throws Exception {
    String topic = Topics.withPrefix(config.topicPrefix()).submit();
    String group = config.topicPrefix() + "orchestrator-intake";
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", env.bootstrapServers()))) {
      var partitions =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> req =
          new java.util.HashMap<>();
      for (var p : partitions) {
        req.put(
            new org.apache.kafka.common.TopicPartition(topic, p.partition()),
            org.apache.kafka.clients.admin.OffsetSpec.latest());
      }
      long end =
          admin.listOffsets(req).all().get().values().stream().mapToLong(o -> o.offset()).sum();
      await()
          .atMost(WAIT)
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

  /** {@code ferry_jobs_deduplicated_total} of an orchestrator, from its /metrics. */
  private static long deduplicated(int healthPort) throws Exception {
    String metrics =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + healthPort + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    return metrics
        .lines()
        .filter(l -> l.startsWith("ferry_jobs_deduplicated_total"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static long jobsOfKey(FerryTestEnv env, String key) throws Exception {
    return Harness.count(
        env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE unique_key = ?", key);
  }

  @Test
  void fiftyConcurrentSubmissionsOfOneKey_throughTwoOrchestrators_makeOneJob(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    var first = Harness.orchestrator(env, config);
    var second = Harness.orchestrator(env, config);
    int partitions = config.getInt(Setting.TOPIC_PARTITIONS);
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int partition = i % partitions;
      sends.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  Harness.submitRaw(
                      env,
                      config,
                      partition,
                      "{\"type\":\"echo\",\"runAt\":\"2999-01-01T00:00:00Z\","
                          + "\"unique\":{\"key\":\"sync-user-42\",\"while\":\"active\"}}");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();
    awaitIntakeCaughtUp(env, config);
    assertThat(jobsOfKey(env, "sync-user-42")).isEqualTo(1);
    // Counted where it happened: 49 deduplicated submissions across the two orchestrators.
    assertThat(deduplicated(first.healthPort()) + deduplicated(second.healthPort())).isEqualTo(49);

    // Once it is finished (here: cancelled by an operator), the key is free again.
    Harness.Run cancel =
        Harness.cli(
            "cancel",
            Setting.DB_URL.flag() + "=" + config.get(Setting.DB_URL),
            Setting.DB_USER.flag() + "=" + config.get(Setting.DB_USER),
            Setting.DB_PASSWORD.flag() + "=" + config.get(Setting.DB_PASSWORD),
            Setting.KAFKA_BOOTSTRAP_SERVERS.flag() + "=" + env.bootstrapServers(),
            Setting.TOPIC_PREFIX.flag() + "=" + config.topicPrefix(),
            "--type",
            "echo");
    assertThat(cancel.exit()).as(cancel.err()).isZero();
    assertThat(cancel.out()).contains("Cancelled 1 job");
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"type\":\"echo\",\"unique\":{\"key\":\"sync-user-42\",\"while\":\"active\"}}");
    await().atMost(WAIT).until(() -> jobsOfKey(env, "sync-user-42") == 2);
    // Re-driving the cancelled one while the new one is unfinished would make two: skipped.
    Harness.Run retry =
        Harness.cli(
            "retry",
            Setting.DB_URL.flag() + "=" + config.get(Setting.DB_URL),
            Setting.DB_USER.flag() + "=" + config.get(Setting.DB_USER),
            Setting.DB_PASSWORD.flag() + "=" + config.get(Setting.DB_PASSWORD),
            Setting.KAFKA_BOOTSTRAP_SERVERS.flag() + "=" + env.bootstrapServers(),
            Setting.TOPIC_PREFIX.flag() + "=" + config.topicPrefix(),
            "--status",
            "CANCELLED",
            "--type",
            "echo");
    assertThat(retry.exit()).as(retry.err()).isZero();
    assertThat(retry.out()).contains(" 0 jobs");
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.jobs WHERE unique_key = 'sync-user-42'"
                    + " AND status = 'CANCELLED'"))
        .isEqualTo(1);
  }

  @Test
  void forMs_holdsTheKeyFromCreation_thenLetsANewJobIn(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    String job = "{\"type\":\"echo\",\"unique\":{\"key\":\"report-7\",\"forMs\":10000}}";
    Harness.submitRaw(env, config, 0, job);
    await().atMost(WAIT).until(() -> jobsOfKey(env, "report-7") == 1);
    // Finished or not, the key is held for 10 s from creation.
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE unique_key = 'report-7'"
                            + " AND status = 'SUCCEEDED'")
                    == 1);
    Harness.submitRaw(env, config, 1, job);
    Harness.submitRaw(env, config, 2, job);
    awaitIntakeCaughtUp(env, config);
    long held =
        Harness.count(
            env.dataSource(),
            "SELECT count(*) FROM ferry.unique_keys WHERE key = 'report-7' AND expires_at > now()");
    assertThat(held)
        .as("still within forMs (a slow machine would need a longer forMs)")
        .isEqualTo(1);
    assertThat(jobsOfKey(env, "report-7")).as("within forMs").isEqualTo(1);
    // After forMs, one more is accepted.
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.unique_keys WHERE key = 'report-7'"
                            + " AND expires_at <= now()")
                    == 1);
    long before = jobsOfKey(env, "report-7");
    Harness.submitRaw(env, config, 3, job);
    await().atMost(WAIT).until(() -> jobsOfKey(env, "report-7") == before + 1);
  }
}
