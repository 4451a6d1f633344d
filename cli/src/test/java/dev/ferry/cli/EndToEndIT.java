package dev.ferry.cli;

import static dev.ferry.cli.Harness.awaitStatus;
import static dev.ferry.cli.Harness.count;
import static dev.ferry.cli.Harness.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The whole job path: raw JSON on the submit topic → orchestrator → worker → Postgres. */
@ExtendWith(FerryExtension.class)
class EndToEndIT {

  @Test
  void rawJsonSubmission_runsToSucceeded_withItsResultAndEvents(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\"" + id + "\",\"type\":\"echo\",\"payload\":{\"hello\":\"world\",\"n\":[1,2]}}");
    Harness.submitRaw(env, config, null, "{\"type\":\"noop\"}");

    awaitStatus(env.dataSource(), id, "SUCCEEDED");
    Map<String, Object> row = job(env.dataSource(), id);
    assertThat(FerryJson.parse((String) row.get("result_text")))
        .isEqualTo(FerryJson.parse("{\"hello\":\"world\",\"n\":[1,2]}"));
    assertThat(row.get("attempts")).isEqualTo(1);
    assertThat(row.get("finished_at")).isNotNull();
    assertThat(row.get("worker_id")).isNotNull();
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND outcome = 'SUCCEEDED'"
                    + " AND started_at IS NOT NULL AND finished_at >= started_at",
                id))
        .isEqualTo(1);
    // The id-less submission got a derived id and succeeded too.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE type = 'noop' AND status = 'SUCCEEDED'")
                    == 1);

    List<ConsumerRecord<byte[], byte[]>> events =
        Harness.readTopic(env, Topics.withPrefix(config.topicPrefix()).events(), 2);
    assertThat(events)
        .anySatisfy(
            e -> {
              var ev = FerryJson.MAPPER.readTree(e.value());
              assertThat(ev.path("jobId").asText()).isEqualTo(id.toString());
              assertThat(ev.path("status").asText()).isEqualTo("SUCCEEDED");
              assertThat(ev.path("attempt").asInt()).isEqualTo(1);
              assertThat(ev.path("result").path("hello").asText()).isEqualTo("world");
              assertThat(ev.has("at")).isTrue();
            });
  }

  @Test
  void sameIdSubmittedThreeTimes_makesOneJob(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    AtomicInteger runs = new AtomicInteger();
    Harness.worker(env, config, counting("counted", runs));
    UUID id = UUID.randomUUID();
    // Same partition, so the order is defined: the first copy wins, the others are no-ops.
    for (int i = 0; i < 3; i++) {
      Harness.submitRaw(
          env,
          config,
          0,
          "{\"id\":\"" + id + "\",\"type\":\"counted\",\"payload\":{\"copy\":" + i + "}}");
    }
    UUID marker = UUID.randomUUID();
    for (int p = 0; p < 2; p++) {
      Harness.submitRaw(
          env,
          config,
          p,
          "{\"id\":\"" + (p == 0 ? marker : UUID.randomUUID()) + "\",\"type\":\"noop\"}");
    }
    awaitStatus(env.dataSource(), id, "SUCCEEDED");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE type = 'noop' AND status = 'SUCCEEDED'")
                    == 2);
    assertThat(count(env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE id = ?", id))
        .isEqualTo(1);
    assertThat(job(env.dataSource(), id).get("payload_text")).isEqualTo("{\"copy\": 0}");
    assertThat(
            count(env.dataSource(), "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ?", id))
        .isEqualTo(1);
    assertThat(runs.get()).isEqualTo(1);
  }

  @Test
  void everyKindOfBadInput_isRejectedToDlqAndTable_andValidNeighboursStillRun(FerryTestEnv env)
      throws Exception {
    FerryConfig config =
        env.config()
            .with(Setting.SUBMIT_MAX_BYTES, "2048")
            .with(Setting.SUBMIT_MAX_DEPTH, "10")
            .with(Setting.SUBMIT_MAX_CHILDREN, "3");
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("not json {", "not valid JSON");
    bad.put("{\"type\":42}", "field 'type' must be a string but was the number 42");
    bad.put("{\"type\":\"noop\",\"timeoutMs\":\"soon\"}", "field 'timeoutMs' must be an integer");
    bad.put("{\"type\":\"noop\",\"payload\":{},\"retries\":3}", "unknown field 'retries'");
    bad.put("{\"payload\":{\"a\":1}}", "missing field 'type'");
    bad.put("{\"id\":\"12345\",\"type\":\"noop\"}", "field 'id' must be a UUID but was '12345'");
    bad.put(
        "{\"type\":\"noop\",\"payload\":{\"blob\":\"" + "x".repeat(3000) + "\"}}",
        "over the limit of 2048 (submit.max.bytes)");
    bad.put(
        "{\"type\":\"noop\",\"payload\":" + "[".repeat(12) + "]".repeat(12) + "}",
        "nested deeper than 10 levels");
    bad.put("{\"type\":\"noop\",\"maxAttempts\":-2}", "field 'maxAttempts' must be between 1");
    bad.put(
        "{\"children\":[{\"type\":\"noop\"},{\"type\":\"noop\"},{\"type\":\"noop\"},"
            + "{\"type\":\"noop\"}]}",
        "more than 3 children");
    bad.put("", "empty record value");

    List<UUID> valid = new ArrayList<>();
    for (String json : bad.keySet()) {
      Harness.submitRaw(env, config, 0, json);
      UUID id = UUID.randomUUID();
      valid.add(id);
      Harness.submitRaw(env, config, 0, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    }
    for (UUID id : valid) {
      awaitStatus(env.dataSource(), id, "SUCCEEDED");
    }

    List<ConsumerRecord<byte[], byte[]>> dlq =
        Harness.readTopic(env, Topics.withPrefix(config.topicPrefix()).dlq(), bad.size());
    assertThat(dlq).hasSize(bad.size());
    List<String> sent = new ArrayList<>(bad.keySet());
    List<String> expected = new ArrayList<>(bad.values());
    for (int i = 0; i < dlq.size(); i++) {
      ConsumerRecord<byte[], byte[]> r = dlq.get(i);
      Header h = r.headers().lastHeader("ferry-error");
      assertThat(h).isNotNull();
      assertThat(new String(h.value(), StandardCharsets.UTF_8)).contains(expected.get(i));
      assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo(sent.get(i));
    }
    assertThat(count(env.dataSource(), "SELECT count(*) FROM ferry.rejected_submissions"))
        .isEqualTo(bad.size());
    for (int i = 0; i < sent.size(); i++) {
      assertThat(
              count(
                  env.dataSource(),
                  "SELECT count(*) FROM ferry.rejected_submissions WHERE topic = ? AND partition = 0"
                      + " AND reason LIKE ? AND raw = ?",
                  Topics.withPrefix(config.topicPrefix()).submit(),
                  "%" + expected.get(i).replace("%", "\\%") + "%",
                  sent.get(i)))
          .as("rejected row for %s", expected.get(i))
          .isEqualTo(1);
    }
  }

  @Test
  void throwingHandlers_endFailedWithTheirErrorRecorded(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    JobHandler thrower =
        new JobHandler() {
          @Override
          public String type() {
            return "thrower";
          }

          @Override
          public JobResult handle(JobContext ctx) {
            if (ctx.payload().path("error").asBoolean()) {
              throw new OutOfMemoryError("pretend heap exhausted");
            }
            throw new IllegalArgumentException("bad thing " + ctx.attempt());
          }
        };
    Harness.worker(env, config, thrower);
    UUID runtime = UUID.randomUUID();
    UUID error = UUID.randomUUID();
    UUID unknown = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + runtime
            + "\",\"type\":\"thrower\","
            + "\"maxAttempts\":2,\"backoff\":{\"initialMs\":10,\"jitter\":0}}");
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + error
            + "\",\"type\":\"thrower\","
            + "\"maxAttempts\":1,\"payload\":{\"error\":true}}");
    Harness.submitRaw(env, config, null, "{\"id\":\"" + unknown + "\",\"type\":\"teleport\"}");

    awaitStatus(env.dataSource(), runtime, "FAILED");
    awaitStatus(env.dataSource(), error, "FAILED");
    awaitStatus(env.dataSource(), unknown, "FAILED");
    Map<String, Object> r = job(env.dataSource(), runtime);
    assertThat(r.get("attempts")).isEqualTo(2);
    assertThat((String) r.get("last_error"))
        .contains("attempt 2 of 2")
        .contains("IllegalArgumentException: bad thing 2");
    assertThat((String) job(env.dataSource(), error).get("last_error"))
        .contains("OutOfMemoryError: pretend heap exhausted");
    assertThat((String) job(env.dataSource(), unknown).get("last_error"))
        .contains("unknown job type 'teleport'");
    assertThat(job(env.dataSource(), unknown).get("attempts")).as("no retries").isEqualTo(1);
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND outcome = 'FAILED'"
                    + " AND error LIKE '%bad thing%'",
                runtime))
        .isEqualTo(2);
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ? AND outcome = 'NON_RETRYABLE'",
                unknown))
        .isEqualTo(1);
  }

  @Test
  void gracefulWorkerShutdown_finishesInFlightJobs_andLosesNone(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.WORKER_CONCURRENCY, "20");
    Harness.orchestrator(env, config);
    AtomicInteger runs = new AtomicInteger();
    AtomicInteger started = new AtomicInteger();
    JobHandler slow =
        new JobHandler() {
          @Override
          public String type() {
            return "slow";
          }

          @Override
          public JobResult handle(JobContext ctx) throws InterruptedException {
            started.incrementAndGet();
            TimeUnit.MILLISECONDS.sleep(1000);
            runs.incrementAndGet();
            return JobResult.success(null);
          }
        };
    var worker = dev.ferry.worker.Worker.start(config, List.of(slow));
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(env, config, null, "{\"id\":\"" + id + "\",\"type\":\"slow\"}");
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> started.get() == 20);
    worker.close();
    assertThat(runs.get()).as("drain waited for every in-flight job").isEqualTo(20);
    for (UUID id : ids) {
      awaitStatus(env.dataSource(), id, "SUCCEEDED");
    }
    assertThat(
            count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.workers WHERE stopped_at IS NOT NULL"))
        .isEqualTo(1);
  }

  static JobHandler counting(String type, AtomicInteger runs) {
    return new JobHandler() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public JobResult handle(JobContext ctx) {
        runs.incrementAndGet();
        return JobResult.success(ctx.payload());
      }
    };
  }
}
