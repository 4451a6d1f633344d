package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * "No record can wedge Ferry", worker side, on a real broker: a result too large for a record, an
 * error too large for a record, children over the configured limits and a disabled built-in all end
 * in one small non-retryable outcome on the results topic, and the worker goes on.
 */
@ExtendWith(FerryExtension.class)
class WorkerLimitsIT {

  /** {@code {"result": N}}, {@code {"error": N}} (N chars) or {@code {"children": N}}. */
  static final class Big implements JobHandler {
    @Override
    public String type() {
      return "big";
    }

    @Override
    public JobResult handle(JobContext ctx) {
      JsonNode p = ctx.payload();
      if (p.has("children")) {
        List<JsonNode> children = new ArrayList<>();
        for (int i = 0; i < p.path("children").asInt(); i++) {
          children.add(FerryJson.parse("{\"type\":\"noop\"}"));
        }
        return JobResult.spawn(children);
      }
      if (p.has("error")) {
        return JobResult.fail("e".repeat(p.path("error").asInt()));
      }
      return JobResult.success(TextNode.valueOf("r".repeat(p.path("result").asInt())));
    }
  }

  private static UUID produce(FerryConfig config, String type, String payload) throws Exception {
    UUID id = UUID.randomUUID();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "test-work")) {
      WorkItem w = new WorkItem(id, 1, 1L, type, FerryJson.parse(payload), null, 60_000);
      var unused =
          p.send(
              new ProducerRecord<>(
                  Topics.withPrefix(config.topicPrefix()).work(),
                  id.toString(),
                  WireCodec.encode(w)));
      p.flush();
    }
    return id;
  }

  private static Outcome.Failed failed(WorkerIT.Results results, UUID id) {
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.containsKey(id));
    Outcome o = results.outcomes.get(id).outcome();
    assertThat(o).isInstanceOf(Outcome.Failed.class);
    assertThat(((Outcome.Failed) o).retryable()).isFalse();
    return (Outcome.Failed) o;
  }

  @Test
  void oversizedOutcomes_badSpawns_andDisabledTypes_endInOneNonRetryableFailure(FerryTestEnv env)
      throws Exception {
    FerryConfig config =
        env.config().with(Setting.SUBMIT_MAX_CHILDREN, "3").with(Setting.HANDLERS_DISABLED, "http");
    WorkerIT.Results results = env.closeAfter(new WorkerIT.Results(config));
    env.closeAfter(Worker.start(config, List.of(new Big())));

    UUID bigResult = produce(config, "big", "{\"result\":2000000}");
    assertThat(failed(results, bigResult).error())
        .isEqualTo("result too large: 2000002 bytes over result.max.bytes (900000)");

    // Not caught before sending: the broker client refuses it, and the worker replaces it.
    UUID bigError = produce(config, "big", "{\"error\":2000000}");
    assertThat(failed(results, bigError).error())
        .startsWith(
            "result could not be sent: "
                + "org.apache.kafka.common.errors.RecordTooLargeException");

    UUID manyChildren = produce(config, "big", "{\"children\":4}");
    assertThat(failed(results, manyChildren).error())
        .startsWith("spawned children are invalid")
        .contains("3");

    UUID http = produce(config, "http", "{\"url\":\"http://127.0.0.1:9/\"}");
    assertThat(failed(results, http).error()).startsWith("unknown job type 'http'");

    // The worker is not wedged: later work still runs.
    UUID ok = produce(config, "big", "{\"result\":10}");
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.containsKey(ok));
    assertThat(results.outcomes.get(ok).outcome()).isInstanceOf(Outcome.Succeeded.class);
    assertThat(results.outcomes.get(bigError).outcome()).isInstanceOf(Outcome.Failed.class);
    assertThat(Map.copyOf(results.outcomes)).hasSize(5);
  }
}
