package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.json.FerryJson;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Outcomes and work items PostgreSQL or Kafka would refuse, through a real orchestrator and worker:
 * results and errors with NUL are stored escaped; a result PostgreSQL refuses ends its job FAILED
 * with the reason instead of wedging the applier; a reducer whose input is too large for a work
 * item ends FAILED instead of wedging the dispatcher; valid jobs around them succeed.
 */
@ExtendWith(FerryExtension.class)
class HostileOutcomesIT {
  private static final long SEED = Long.getLong("ferry.seed", System.nanoTime());

  static JobHandler handler(String type, Function<JobContext, JobResult> body) {
    return new JobHandler() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public JobResult handle(JobContext context) {
        return body.apply(context);
      }
    };
  }

  @Test
  void hostileOutcomes_areStoredEscapedOrEndTheirJobFailed_andValidOutcomesAroundThemApply(
      FerryTestEnv env) throws Exception {
    System.out.println("HostileOutcomesIT seed=" + SEED);
    Random r = new Random(SEED);
    FerryConfig config = env.config();
    Orchestrator orchestrator = Harness.orchestrator(env, config);
    // A refusal no validation knows of: PostgreSQL refuses any result with a "refuse" field.
    HostileInputIT.execute(
        env,
        "ALTER TABLE ferry.jobs ADD CONSTRAINT test_refuse_result"
            + " CHECK (result IS NULL OR jsonb_typeof(result) <> 'object' OR NOT result ? 'refuse')");
    Harness.worker(
        env,
        config,
        handler(
            "nul-result",
            c ->
                JobResult.success(
                    FerryJson.parse("{\"s\":\"a\\u0000b\",\"k\\u0000\":[\"\\u0000\"]}"))),
        handler("nul-error", c -> JobResult.fail("bad\u0000thing\r\nforged")),
        handler(
            "binary-result",
            c -> {
              byte[] b = new byte[64];
              new Random(7).nextBytes(b);
              return JobResult.success(BinaryNode.valueOf(b));
            }),
        handler("refused-result", c -> JobResult.success(FerryJson.parse("{\"refuse\":true}"))),
        handler(
            "huge-result",
            c -> JobResult.success(FerryJson.object().put("s", "h".repeat(5_000_000)))));

    Map<UUID, String> expected = new LinkedHashMap<>();
    List<String> kinds =
        List.of(
            "echo", "nul-result", "nul-error", "binary-result", "refused-result", "huge-result");
    for (int i = 0; i < 200; i++) {
      String kind = i % 2 == 0 ? "echo" : kinds.get(r.nextInt(kinds.size()));
      UUID id = UUID.randomUUID();
      Harness.submitRaw(
          env,
          config,
          0,
          "{\"id\":\""
              + id
              + "\",\"type\":\""
              + kind
              + "\",\"maxAttempts\":1,\"payload\":{\"i\":"
              + i
              + "}}");
      expected.put(id, kind);
    }
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                Harness.countIds(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE id = ANY(?)"
                            + " AND status IN ('SUCCEEDED', 'FAILED')",
                        expected.keySet())
                    == expected.size());

    int refused = 0;
    for (Map.Entry<UUID, String> e : expected.entrySet()) {
      Map<String, Object> job = Harness.job(env.dataSource(), e.getKey());
      String result = (String) job.get("result_text");
      String error = (String) job.get("last_error");
      switch (e.getValue()) {
        case "echo" -> assertThat(job.get("status")).isEqualTo("SUCCEEDED");
        case "nul-result" -> {
          assertThat(job.get("status")).isEqualTo("SUCCEEDED");
          assertThat(FerryJson.parse(result))
              .isEqualTo(FerryJson.parse("{\"s\":\"a\\\\u0000b\",\"k\\\\u0000\":[\"\\\\u0000\"]}"));
        }
        case "nul-error" -> {
          assertThat(job.get("status")).isEqualTo("FAILED");
          assertThat(error).contains("bad\\u0000thing");
        }
        case "binary-result" -> {
          assertThat(job.get("status")).isEqualTo("SUCCEEDED");
          JsonNode n = FerryJson.parse(result);
          assertThat(n.isTextual()).as("binary travels as base64 text").isTrue();
        }
        case "refused-result" -> {
          refused++;
          assertThat(job.get("status")).isEqualTo("FAILED");
          assertThat(error)
              .startsWith("result could not be stored: ")
              .contains("test_refuse_result");
          assertThat(
                  Harness.count(
                      env.dataSource(),
                      "SELECT count(*) FROM ferry.job_attempts"
                          + " WHERE job_id = ? AND outcome = 'NON_RETRYABLE' AND error LIKE 'result could"
                          + " not be stored%'",
                      e.getKey()))
              .isEqualTo(1);
        }
        case "huge-result" -> {
          assertThat(job.get("status")).isEqualTo("FAILED");
          assertThat(error).contains("result too large: ").contains("result.max.bytes");
        }
        default -> throw new AssertionError(e.getValue());
      }
    }
    int refusedResults = refused;
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                MetricsIT.value(
                        HostileInputIT.scrape(orchestrator.healthPort()),
                        "ferry_quarantined_total",
                        "loop=\"ferry-applier")
                    == refusedResults);
  }

  /**
   * A refused result, then a valid job, again and again: how long the refused outcome holds the
   * next valid job up (its submit → SUCCEEDED).
   */
  @Test
  void pacedRefusedResults_theNextValidJobStillSucceedsPromptly(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    HostileInputIT.execute(
        env,
        "ALTER TABLE ferry.jobs ADD CONSTRAINT test_refuse_result"
            + " CHECK (result IS NULL OR jsonb_typeof(result) <> 'object' OR NOT result ? 'refuse')");
    Harness.worker(
        env,
        config,
        handler("refused-result", c -> JobResult.success(FerryJson.parse("{\"refuse\":true}"))));
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      UUID bad = UUID.randomUUID();
      UUID good = UUID.randomUUID();
      long t0 = System.currentTimeMillis();
      Harness.submitRaw(env, config, 0, "{\"id\":\"" + bad + "\",\"type\":\"refused-result\"}");
      Harness.submitRaw(env, config, 0, "{\"id\":\"" + good + "\",\"type\":\"echo\"}");
      Harness.awaitStatus(env.dataSource(), good, "SUCCEEDED");
      Harness.awaitStatus(env.dataSource(), bad, "FAILED");
      delays.add(
          ((java.sql.Timestamp) Harness.job(env.dataSource(), good).get("finished_at")).getTime()
              - t0);
    }
    delays.sort(null);
    System.out.printf(
        "RESULT hostile-applier-paced n=%d refused_to_next_success_ms p50=%d" + " p99=%d max=%d%n",
        delays.size(),
        delays.get(delays.size() / 2),
        delays.get(delays.size() - 1),
        delays.get(delays.size() - 1));
  }

  @Test
  void reducerWhoseInputIsTooLargeForAWorkItem_endsFailed_andTheDispatcherGoesOn(FerryTestEnv env)
      throws Exception {
    // The orchestrator may produce records of at most 64 KiB.
    FerryConfig config = env.config().withKafka("max.request.size", "65536");
    Harness.orchestrator(env, config);
    Harness.worker(
        env,
        config,
        handler("fat", c -> JobResult.success(FerryJson.object().put("s", "z".repeat(20_000)))));

    UUID top = UUID.randomUUID();
    UUID reducer = UUID.randomUUID();
    // top (no type) ← reducer (type echo) ← 5 children of 20 KB results each: ~100 KB input.
    StringBuilder kids = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      kids.append(i == 0 ? "" : ",")
          .append("{\"type\":\"fat\",\"key\":\"f")
          .append(i)
          .append("\"}");
    }
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + top
            + "\",\"children\":[{\"id\":\""
            + reducer
            + "\",\"type\":\"echo\",\"key\":\"r\",\"children\":["
            + kids
            + "]}]}");
    // A delayed job behind it, and one too large to ever be a work item (refused at intake).
    UUID later = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + later
            + "\",\"type\":\"noop\",\"runAt\":\""
            + java.time.Instant.now().plusSeconds(2)
            + "\"}");
    UUID huge = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + huge
            + "\",\"type\":\"noop\",\"runAt\":\""
            + java.time.Instant.now().plusSeconds(2)
            + "\",\"payload\":{\"s\":\""
            + "q".repeat(80_000)
            + "\"}}");

    Harness.awaitStatus(env.dataSource(), reducer, "FAILED");
    Map<String, Object> row = Harness.job(env.dataSource(), reducer);
    assertThat((String) row.get("last_error"))
        .startsWith("work item too large: ")
        .contains("kafka.max.request.size 65536");
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts"
                    + " WHERE job_id = ? AND outcome = 'NON_RETRYABLE'",
                reducer))
        .isEqualTo(1);
    // Fan-in carried the failure up.
    Harness.awaitStatus(env.dataSource(), top, "FAILED");
    assertThat((String) Harness.job(env.dataSource(), top).get("last_error"))
        .contains("child r failed: work item too large");
    Harness.awaitStatus(env.dataSource(), later, "SUCCEEDED");
    assertThat(Harness.job(env.dataSource(), huge)).isNull();
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.rejected_submissions"
                    + " WHERE reason LIKE 'work item too large%'"))
        .isEqualTo(1);
    List<UUID> none = new ArrayList<>();
    assertThat(none).isEmpty();
  }
}
