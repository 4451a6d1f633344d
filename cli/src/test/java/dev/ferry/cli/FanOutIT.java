package dev.ferry.cli;

import static dev.ferry.cli.Harness.awaitStatus;
import static dev.ferry.cli.Harness.count;
import static dev.ferry.cli.Harness.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.Outcome;
import dev.ferry.orchestrator.admin.JobAdmin;
import dev.ferry.orchestrator.admin.Selection;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Static fan-out and fan-in through real Kafka and Postgres. */
@ExtendWith(FerryExtension.class)
class FanOutIT {

  private static JsonNode result(FerryTestEnv env, UUID id) throws Exception {
    return FerryJson.parse((String) job(env.dataSource(), id).get("result_text"));
  }

  private static String children(int n, String childJson) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? "," : "").append(childJson.replace("#", String.valueOf(i)));
    }
    return sb.append("]").toString();
  }

  @Test
  void tenThousandChildren_allSucceed_andTheAggregateIsExact(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"children\":"
            + children(10_000, "{\"type\":\"echo\",\"key\":\"c#\",\"payload\":{\"n\":#}}")
            + "}");
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), parent)));
    JsonNode r = result(env, parent);
    assertThat(r.path("total").asInt()).isEqualTo(10_000);
    assertThat(r.path("succeeded").asInt()).isEqualTo(10_000);
    assertThat(r.path("failed").asInt()).isZero();
    assertThat(r.path("results").size()).isEqualTo(10_000);
    assertThat(r.path("results").path("c1234").path("n").asInt()).isEqualTo(1234);
    assertThat(job(env.dataSource(), parent).get("children_done")).isEqualTo(10_000);
    assertThat(
            count(env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE parent_id = ?", parent))
        .isEqualTo(10_000);
  }

  @Test
  void twoOrchestratorsAndTwoWorkers_countEveryChildExactlyOnce(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    Harness.worker(env, config);
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"failurePolicy\":\"collect\","
            + "\"children\":"
            + children(3_000, "{\"type\":\"noop\",\"key\":\"n#\"}")
            + "}");
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), parent)));
    JsonNode r = result(env, parent);
    assertThat(r.path("total").asInt()).isEqualTo(3_000);
    assertThat(r.path("succeeded").asInt()).isEqualTo(3_000);
    assertThat(job(env.dataSource(), parent).get("children_done")).isEqualTo(3_000);
  }

  @Test
  void failFast_cancelsSiblingsAndFailsTheParent(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"failurePolicy\":\"fail-fast\","
            + "\"children\":[{\"type\":\"echo\",\"key\":\"ok\"},"
            + "{\"type\":\"sleep\",\"key\":\"broken\",\"payload\":{\"ms\":-1}},"
            + "{\"type\":\"sleep\",\"key\":\"slow1\",\"payload\":{\"ms\":60000}},"
            + "{\"type\":\"sleep\",\"key\":\"slow2\",\"payload\":{\"ms\":60000}}]}");
    awaitStatus(env.dataSource(), parent, "FAILED");
    assertThat((String) job(env.dataSource(), parent).get("last_error"))
        .startsWith("child broken failed: ")
        .contains("sleep needs a payload");
    // The slow siblings are cancelled at once (the quick one may have finished first).
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.jobs WHERE parent_id = ?"
                    + " AND key IN ('slow1', 'slow2') AND status = 'CANCELLED'",
                parent))
        .isEqualTo(2);
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.jobs WHERE parent_id = ?"
                    + " AND key = 'ok' AND status IN ('SUCCEEDED', 'CANCELLED')",
                parent))
        .isEqualTo(1);
  }

  @Test
  void collect_completesWithSuccessesAndFailuresListed(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"failurePolicy\":\"collect\","
            + "\"children\":[{\"type\":\"echo\",\"key\":\"a\",\"payload\":{\"v\":1}},"
            + "{\"type\":\"teleport\",\"key\":\"b\"},{\"type\":\"noop\",\"key\":\"c\"}]}");
    awaitStatus(env.dataSource(), parent, "SUCCEEDED");
    JsonNode r = result(env, parent);
    assertThat(r.path("succeeded").asInt()).isEqualTo(2);
    assertThat(r.path("failed").asInt()).isEqualTo(1);
    assertThat(r.path("results").path("a").path("v").asInt()).isEqualTo(1);
    assertThat(r.path("results").has("c")).isTrue();
    assertThat(r.path("errors").path("b").asText()).contains("unknown job type 'teleport'");
  }

  @Test
  void threeLevels_andAReducerThatReceivesTheAggregate(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID root = UUID.randomUUID();
    String leaf = "{\"type\":\"echo\",\"key\":\"leaf#\",\"payload\":{\"x\":#}}";
    String middle = "{\"key\":\"mid#\",\"children\":" + children(2, leaf) + "}";
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + root
            + "\",\"type\":\"echo\","
            + "\"payload\":{\"note\":\"reduce me\"},\"children\":["
            + middle.replace("#", "0")
            + ","
            + middle.replace("mid#", "mid1")
            + "]}");
    awaitStatus(env.dataSource(), root, "SUCCEEDED");
    // The reducer is echo: its result is its input, the aggregate plus its own payload.
    JsonNode r = result(env, root);
    assertThat(r.path("payload").path("note").asText()).isEqualTo("reduce me");
    JsonNode kids = r.path("children");
    assertThat(kids.path("total").asInt()).isEqualTo(2);
    assertThat(kids.path("results").path("mid0").path("results").path("leaf1").path("x").asInt())
        .isEqualTo(1);
    assertThat(
            count(env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'"))
        .isEqualTo(7);
    assertThat(job(env.dataSource(), root).get("attempts")).as("the reducer ran once").isEqualTo(1);

    String[] db = {
      "--db-url=" + env.database().url(),
      "--db-user=" + env.database().user(),
      "--db-password=" + env.database().password()
    };
    Harness.Run status = Harness.cli("status", root.toString(), db[0], db[1], db[2]);
    assertThat(status.out()).contains("children:").contains("2 / 2 done, 0 failed");
    Harness.Run jobs = Harness.cli("jobs", "--parent", root.toString(), db[0], db[1], db[2]);
    assertThat(jobs.out()).contains("(2 jobs)");
  }

  @Test
  void dynamicFanOut_aHandlerSpawnsChildren_andCompletesWithTheirAggregate(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    java.util.concurrent.atomic.AtomicInteger crawls =
        new java.util.concurrent.atomic.AtomicInteger();
    dev.ferry.worker.api.JobHandler crawler =
        new dev.ferry.worker.api.JobHandler() {
          @Override
          public String type() {
            return "crawl";
          }

          @Override
          public dev.ferry.worker.api.JobResult handle(dev.ferry.worker.api.JobContext ctx) {
            crawls.incrementAndGet();
            List<JsonNode> links = new java.util.ArrayList<>();
            for (int i = 0; i < ctx.payload().path("links").asInt(); i++) {
              links.add(
                  FerryJson.parse(
                      "{\"type\":\"echo\",\"key\":\"link-"
                          + i
                          + "\",\"payload\":{\"page\":"
                          + i
                          + "}}"));
            }
            return dev.ferry.worker.api.JobResult.spawn(links);
          }
        };
    Harness.worker(env, config, crawler);
    UUID page = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\"" + page + "\",\"type\":\"crawl\",\"payload\":{\"links\":25}}");
    awaitStatus(env.dataSource(), page, "SUCCEEDED");
    JsonNode r = result(env, page);
    assertThat(r.path("total").asInt()).isEqualTo(25);
    assertThat(r.path("results").path("link-7").path("page").asInt()).isEqualTo(7);
    assertThat(crawls.get()).as("the spawning handler ran once").isEqualTo(1);
    assertThat(job(env.dataSource(), page).get("attempts")).isEqualTo(1);
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ?"
                    + " AND outcome = 'SPAWNED'",
                page))
        .isEqualTo(1);
  }

  @Test
  void duplicateOutcomes_doNotDoubleCount(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"type\":\"echo\","
            + "\"payload\":{\"ms\":1},\"children\":"
            + children(20, "{\"type\":\"noop\",\"key\":\"k#\"}")
            + "}");
    awaitStatus(env.dataSource(), parent, "SUCCEEDED");
    // Replay every child's outcome twice more on the results topic.
    String results = Topics.withPrefix(config.topicPrefix()).results();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT id, attempts, run_seq FROM ferry.jobs WHERE parent_id = ?");
        KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "replay")) {
      ps.setObject(1, parent);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          Instant now = Instant.now();
          for (int i = 0; i < 2; i++) {
            p.send(
                    new ProducerRecord<>(
                        results,
                        id.toString(),
                        WireCodec.encode(
                            new AttemptReport(
                                id,
                                rs.getInt(2),
                                rs.getLong(3),
                                "dup",
                                now,
                                now,
                                new Outcome.Succeeded(null)))))
                .get();
          }
        }
      }
    }
    UUID marker = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + marker + "\",\"type\":\"noop\"}");
    awaitStatus(env.dataSource(), marker, "SUCCEEDED");
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> (int) job(env.dataSource(), parent).get("children_done") == 20);
    assertThat(job(env.dataSource(), parent).get("attempts")).isEqualTo(1);
  }

  @Test
  void cancellingAParent_cancelsItsWholeTree(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    UUID parent = UUID.randomUUID();
    String later = "{\"type\":\"noop\",\"runAt\":\"" + Instant.now().plusSeconds(3600) + "\"}";
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"children\":["
            + later
            + ",{\"children\":["
            + later
            + ","
            + later
            + "]}]}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(env.dataSource(), "SELECT count(*) FROM ferry.jobs") == 5);
    try (Connection c = env.dataSource().getConnection()) {
      assertThat(new JobAdmin().cancel(c, new Selection(List.of(parent), null, null))).hasSize(1);
    }
    assertThat(
            count(env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE status = 'CANCELLED'"))
        .isEqualTo(5);
  }

  @Test
  void redrivingAFailedChildWhileItsParentWaits_keepsTheFanInCountsExact(FerryTestEnv env)
      throws Exception {
    java.util.concurrent.atomic.AtomicBoolean failing =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(
        env,
        config,
        HostileOutcomesIT.handler(
            "flip",
            c ->
                failing.get()
                    ? dev.ferry.worker.api.JobResult.fail("not yet")
                    : dev.ferry.worker.api.JobResult.success(FerryJson.object().put("ok", true))),
        HostileOutcomesIT.handler(
            "gate",
            c -> {
              try {
                gate.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return dev.ferry.worker.api.JobResult.success(FerryJson.object());
            }));
    UUID parent = UUID.randomUUID();
    UUID a = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"failurePolicy\":\"collect\","
            + "\"children\":[{\"id\":\""
            + a
            + "\",\"key\":\"a\",\"type\":\"flip\",\"maxAttempts\":1},"
            + "{\"key\":\"b\",\"type\":\"gate\",\"timeoutMs\":120000},{\"key\":\"c\",\"type\":\"noop\"}]}");
    awaitStatus(env.dataSource(), a, "FAILED");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> (int) job(env.dataSource(), parent).get("children_done") == 2);

    failing.set(false);
    try (Connection c = env.dataSource().getConnection()) {
      assertThat(new JobAdmin().retry(c, new Selection(List.of(a), null, null), 1)).hasSize(1);
    }
    awaitStatus(env.dataSource(), a, "SUCCEEDED");
    var p = job(env.dataSource(), parent);
    assertThat(p.get("status")).as("b still runs").isEqualTo("WAITING_CHILDREN");
    assertThat(p.get("children_done")).isEqualTo(2);
    assertThat(p.get("children_failed")).isEqualTo(0);

    gate.countDown();
    awaitStatus(env.dataSource(), parent, "SUCCEEDED");
    JsonNode result = FerryJson.parse((String) job(env.dataSource(), parent).get("result_text"));
    assertThat(result.get("total").asInt()).isEqualTo(3);
    assertThat(result.get("succeeded").asInt()).isEqualTo(3);
    assertThat(result.get("failed").asInt()).isZero();
  }

  @Test
  void childrenWhoseIdsBelongToExistingJobs_areNotCounted_andAParentLeftWithNoneFails(
      FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID existing = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + existing + "\",\"type\":\"noop\"}");
    awaitStatus(env.dataSource(), existing, "SUCCEEDED");

    // One child names the existing job: only the other child is this parent's.
    UUID parent = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + parent
            + "\",\"children\":[{\"id\":\""
            + existing
            + "\",\"type\":\"noop\"},{\"key\":\"own\",\"type\":\"noop\"}]}");
    awaitStatus(env.dataSource(), parent, "SUCCEEDED");
    assertThat(job(env.dataSource(), parent).get("children_total")).isEqualTo(1);
    assertThat(
            FerryJson.parse((String) job(env.dataSource(), parent).get("result_text"))
                .get("total")
                .asInt())
        .isEqualTo(1);

    // Every child names an existing job: the parent would wait forever; it fails instead.
    UUID orphan = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + orphan
            + "\",\"children\":[{\"id\":\""
            + existing
            + "\",\"type\":\"noop\"}]}");
    awaitStatus(env.dataSource(), orphan, "FAILED");
    assertThat((String) job(env.dataSource(), orphan).get("last_error"))
        .isEqualTo("none of its children could be created: their ids belong to existing jobs");
    assertThat(job(env.dataSource(), existing).get("parent_id")).isNull();
  }
}
