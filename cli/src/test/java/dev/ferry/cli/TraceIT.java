package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.MDC;

/**
 * W3C trace context from a raw Kafka record to the events topic: the submission's {@code
 * traceparent} header is stored with the job (and its children), carried on the work items and
 * attempt reports, set in the handler's MDC and context, and on every event; a job without one (or
 * with a malformed one) gets a fresh trace; {@code ferry status} shows it.
 */
@ExtendWith(FerryExtension.class)
class TraceIT {
  private static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

  /** What the handler saw: the MDC trace id and the context's traceparent, by job id. */
  static final Map<UUID, String> seenMdc = new ConcurrentHashMap<>();

  static final Map<UUID, String> seenContext = new ConcurrentHashMap<>();

  static final class TraceProbe implements JobHandler {
    @Override
    public String type() {
      return "trace-probe";
    }

    @Override
    public JobResult handle(JobContext context) {
      seenMdc.put(context.jobId(), String.valueOf(MDC.get(TraceContext.MDC_TRACE_ID)));
      seenContext.put(context.jobId(), String.valueOf(context.traceparent()));
      return JobResult.success(null);
    }
  }

  @Test
  void traceparentHeader_travelsFromSubmissionToEvents_andJobsWithoutOneGetAFreshTrace(
      FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Topics topics = Topics.withPrefix(config.topicPrefix());
    Harness.orchestrator(env, config);
    Harness.worker(env, config, new TraceProbe());

    UUID parent = UUID.randomUUID();
    UUID child1 = UUID.randomUUID();
    UUID child2 = UUID.randomUUID();
    UUID plain = UUID.randomUUID();
    UUID malformed = UUID.randomUUID();
    send(
        env,
        topics,
        "{\"id\":\""
            + parent
            + "\",\"children\":["
            + "{\"id\":\""
            + child1
            + "\",\"type\":\"trace-probe\"},"
            + "{\"id\":\""
            + child2
            + "\",\"type\":\"trace-probe\"}]}",
        TRACE);
    send(env, topics, "{\"id\":\"" + plain + "\",\"type\":\"trace-probe\"}", null);
    send(
        env,
        topics,
        "{\"id\":\"" + malformed + "\",\"type\":\"trace-probe\"}",
        "00-not-a-trace-01");
    for (UUID id : List.of(parent, plain, malformed)) {
      Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
    }

    // Stored: the tree shares the caller's trace; the others got fresh, valid, distinct ones.
    for (UUID id : List.of(parent, child1, child2)) {
      assertThat(traceOf(env, id)).isEqualTo(TRACE);
    }
    String plainTrace = traceOf(env, plain);
    String malformedTrace = traceOf(env, malformed);
    assertThat(TraceContext.validOrNull(plainTrace)).isEqualTo(plainTrace);
    assertThat(TraceContext.validOrNull(malformedTrace)).isEqualTo(malformedTrace);
    assertThat(TraceContext.traceId(plainTrace))
        .isNotEqualTo(TRACE_ID)
        .isNotEqualTo(TraceContext.traceId(malformedTrace));

    // The handler ran inside the trace: MDC and context.
    assertThat(seenMdc)
        .containsEntry(child1, TRACE_ID)
        .containsEntry(child2, TRACE_ID)
        .containsEntry(plain, TraceContext.traceId(plainTrace));
    assertThat(seenContext).containsEntry(child1, TRACE).containsEntry(plain, plainTrace);

    // Every work item, attempt report and event carries its job's traceparent header.
    Map<UUID, String> expected =
        Map.of(
            child1,
            TRACE,
            child2,
            TRACE,
            parent,
            TRACE,
            plain,
            plainTrace,
            malformed,
            malformedTrace);
    assertHeaders(env, topics.work(), 4, expected);
    assertHeaders(env, topics.results(), 4, expected);
    List<ConsumerRecord<byte[], byte[]>> events = assertHeaders(env, topics.events(), 5, expected);
    assertThat(events)
        .extracting(r -> UUID.fromString(new String(r.key(), StandardCharsets.UTF_8)))
        .contains(parent, child1, child2, plain, malformed);

    // ferry status shows the trace id.
    Harness.Run status =
        Harness.cli(
            "status",
            Setting.DB_URL.flag() + "=" + config.get(Setting.DB_URL),
            Setting.DB_USER.flag() + "=" + config.get(Setting.DB_USER),
            Setting.DB_PASSWORD.flag() + "=" + config.get(Setting.DB_PASSWORD),
            child1.toString());
    assertThat(status.exit()).isZero();
    assertThat(status.out()).containsPattern("trace_id:\\s+" + TRACE_ID);
  }

  private static void send(FerryTestEnv env, Topics topics, String json, String traceparent)
      throws Exception {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topics.submit(), json.getBytes(StandardCharsets.UTF_8));
    if (traceparent != null) {
      r.headers().add(TraceContext.HEADER, traceparent.getBytes(StandardCharsets.US_ASCII));
    }
    env.rawProducer().send(r).get();
  }

  private static String traceOf(FerryTestEnv env, UUID id) throws Exception {
    return String.valueOf(Harness.job(env.dataSource(), id).get("traceparent"));
  }

  /** Reads n records of a topic and checks each one's header against its job's trace. */
  private static List<ConsumerRecord<byte[], byte[]>> assertHeaders(
      FerryTestEnv env, String topic, int n, Map<UUID, String> expected) {
    List<ConsumerRecord<byte[], byte[]>> records = Harness.readTopic(env, topic, n);
    assertThat(records).as(topic).hasSizeGreaterThanOrEqualTo(n);
    for (ConsumerRecord<byte[], byte[]> r : records) {
      UUID job = UUID.fromString(new String(r.key(), StandardCharsets.UTF_8));
      assertThat(TraceContext.fromHeaders(r.headers()))
          .as(topic + " record of " + job)
          .isEqualTo(expected.get(job));
    }
    return records;
  }
}
