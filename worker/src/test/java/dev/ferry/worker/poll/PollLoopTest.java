package dev.ferry.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.exec.JobRunner;
import dev.ferry.worker.handlers.HandlerRegistry;
import dev.ferry.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The poll loop against Kafka's {@link MockConsumer} and {@link MockProducer}: records in, outcomes
 * out, offsets committed; a failing poll ends the loop and is counted. No broker.
 */
class PollLoopTest {
  private static final String TOPIC = "work";
  private final TopicPartition tp = new TopicPartition(TOPIC, 0);
  private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  private final MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final WorkerMetrics metrics = new WorkerMetrics(registry, 10);
  private final JobRunner runner =
      new JobRunner(
          HandlerRegistry.load(List.of()),
          producer,
          "results",
          "w1",
          timer,
          Clock.systemUTC(),
          null,
          d -> BreakerConfig.DEFAULT,
          Duration.ZERO,
          metrics,
          new JobRunner.Limits(1000, SubmissionLimits.DEFAULT));
  private final PollLoop loop =
      new PollLoop(consumer, TOPIC, runner, 2, 10, null, Duration.ZERO, Duration.ZERO, metrics);

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private ConsumerRecord<String, byte[]> record(long offset, byte[] value) {
    return new ConsumerRecord<>(TOPIC, 0, offset, "k" + offset, value);
  }

  private static byte[] noop() {
    return WireCodec.encode(
        new WorkItem(UUID.randomUUID(), 1, 1L, "noop", FerryJson.object(), null, 30_000));
  }

  private List<AttemptReport> outcomes() throws IOException {
    List<AttemptReport> out = new java.util.ArrayList<>();
    for (ProducerRecord<String, byte[]> r : producer.history()) {
      AttemptReport rep = WireCodec.decodeReport(r.value());
      if (!rep.isStartNotice()) {
        out.add(rep);
      }
    }
    return out;
  }

  private long committed() {
    OffsetAndMetadata o = consumer.committed(Set.of(tp)).get(tp);
    return o == null ? -1 : o.offset();
  }

  @Test
  void records_run_andTheirOffsetsAreCommitted_malformedOnesSkipped() throws Exception {
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(tp));
          consumer.updateBeginningOffsets(Map.of(tp, 0L));
          consumer.addRecord(record(0, noop()));
          consumer.addRecord(record(1, "not a work item".getBytes(StandardCharsets.UTF_8)));
          for (long o = 2; o < 7; o++) {
            consumer.addRecord(record(o, noop()));
          }
        });
    Thread thread = Thread.ofPlatform().name("test-poll").start(loop);
    await().atMost(Duration.ofSeconds(10)).until(() -> committed() == 7);
    assertThat(outcomes()).hasSize(6);
    assertThat(loop.assignedPartitions()).isEqualTo(1);
    assertThat(loop.maxInFlight()).isBetween(1, 2);

    assertThat(loop.drain(Duration.ofSeconds(5))).isTrue();
    thread.join(10_000);
    assertThat(loop.failure()).isNull();
    assertThat(loop.running()).isFalse();
    assertThat(consumer.closed()).isTrue();
  }

  @Test
  void aFailingPoll_endsTheLoop_andIsCountedAsALoopError() throws Exception {
    consumer.setPollException(new KafkaException("broker gone"));
    Thread thread = Thread.ofPlatform().name("test-poll").start(loop);
    thread.join(10_000);
    assertThat(loop.running()).isFalse();
    assertThat(loop.failure()).isInstanceOf(KafkaException.class).hasMessage("broker gone");
    Counter errors = registry.find("ferry.loop.errors").tag("loop", PollLoop.LOOP_NAME).counter();
    assertThat(errors).isNotNull();
    assertThat(errors.count()).isEqualTo(1);
  }
}
