package dev.ferry.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.handlers.HandlerRegistry;
import dev.ferry.worker.handlers.HttpSettings;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What JobRunner checks before and while it reports: result size, spawned children against the
 * configured limits, and outcomes the broker refuses (replaced once, never re-sent forever). Kafka
 * is a {@link MockProducer} whose sends the test completes or fails one by one.
 */
class JobRunnerLimitsTest {
  private final MockProducer<String, byte[]> producer =
      new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
  private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
  private final List<Completion<UUID>> completions = new CopyOnWriteArrayList<>();

  /**
   * {@code {"size": N}} → a result string of N chars; {@code {"children": N}} → N noop children.
   */
  private static final JobHandler SIZED =
      new JobHandler() {
        @Override
        public String type() {
          return "sized";
        }

        @Override
        public JobResult handle(JobContext ctx) {
          if (ctx.payload().has("children")) {
            List<com.fasterxml.jackson.databind.JsonNode> children = new ArrayList<>();
            for (int i = 0; i < ctx.payload().path("children").asInt(); i++) {
              children.add(FerryJson.parse("{\"type\":\"noop\"}"));
            }
            return JobResult.spawn(children);
          }
          return JobResult.success(
              com.fasterxml.jackson.databind.node.TextNode.valueOf(
                  "x".repeat(ctx.payload().path("size").asInt())));
        }
      };

  private final JobRunner runner =
      new JobRunner(
          HandlerRegistry.load(List.of(SIZED), HttpSettings.defaults(), Set.of()),
          producer,
          "results",
          "w1",
          timer,
          Clock.systemUTC(),
          null,
          d -> null,
          Duration.ofHours(1),
          WorkerMetrics.none(),
          new JobRunner.Limits(1000, new SubmissionLimits(1 << 20, 64, 2)));

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private UUID run(String payload) {
    UUID id = UUID.randomUUID();
    runner.start(
        new WorkItem(id, 1, 1L, "sized", FerryJson.parse(payload), null, 30_000),
        id,
        completions::add,
        false);
    return id;
  }

  private Outcome sent(int index) throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() > index);
    AttemptReport r = WireCodec.decodeReport(producer.history().get(index).value());
    return r.outcome();
  }

  private boolean stored(UUID ticket) {
    return completions.contains(new Completion.OutcomeStored<>(ticket));
  }

  @Test
  void resultOverTheLimit_endsNonRetryable() throws Exception {
    run("{\"size\":2000}");
    assertThat(sent(0))
        .isEqualTo(
            new Outcome.Failed("result too large: 2002 bytes over result.max.bytes (1000)", false));
  }

  @Test
  void resultAtTheLimit_succeeds() throws Exception {
    run("{\"size\":998}");
    assertThat(sent(0)).isInstanceOf(Outcome.Succeeded.class);
  }

  @Test
  void spawnedChildren_areCheckedWithTheConfiguredLimits() throws Exception {
    run("{\"children\":3}");
    Outcome tooMany = sent(0);
    assertThat(tooMany).isInstanceOf(Outcome.Failed.class);
    assertThat(((Outcome.Failed) tooMany).retryable()).isFalse();
    assertThat(((Outcome.Failed) tooMany).error()).startsWith("spawned children are invalid");
    producer.completeNext();
    run("{\"children\":2}");
    assertThat(sent(1)).isInstanceOf(Outcome.Spawned.class);
  }

  @Test
  void outcomeTheBrokerRefuses_isReplacedOnceByASmallFailure() throws Exception {
    UUID id = run("{\"size\":10}");
    assertThat(sent(0)).isInstanceOf(Outcome.Succeeded.class);
    producer.errorNext(new RecordTooLargeException("The message is 2000000 bytes"));
    Outcome replaced = sent(1);
    assertThat(replaced)
        .isEqualTo(
            new Outcome.Failed(
                "result could not be sent: org.apache.kafka.common.errors.RecordTooLargeException: "
                    + "The message is 2000000 bytes",
                false));
    // The replacement itself refused: re-sent as it is, never replaced again.
    producer.errorNext(new RecordTooLargeException("again"));
    assertThat(sent(2)).isEqualTo(replaced);
    assertThat(stored(id)).isFalse();
    producer.completeNext();
    await().atMost(Duration.ofSeconds(10)).until(() -> stored(id));
  }

  @Test
  void transientSendFailure_resendsTheSameOutcome() throws Exception {
    UUID id = run("{\"size\":10}");
    Outcome first = sent(0);
    producer.errorNext(new TimeoutException("broker slow"));
    assertThat(sent(1)).isEqualTo(first);
    producer.completeNext();
    await().atMost(Duration.ofSeconds(10)).until(() -> stored(id));
  }
}
