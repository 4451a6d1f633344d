package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The worker alone, on a real broker: work items in, attempt reports out. */
@ExtendWith(FerryExtension.class)
class WorkerIT {

  /** A handler that blocks until released and counts how many run at once. */
  static final class GateHandler implements JobHandler {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger current = new AtomicInteger();
    final AtomicInteger max = new AtomicInteger();
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public String type() {
      return "gate";
    }

    @Override
    public JobResult handle(JobContext ctx) throws InterruptedException {
      int n = current.incrementAndGet();
      max.accumulateAndGet(n, Math::max);
      runs.incrementAndGet();
      try {
        release.await();
        return JobResult.success(null);
      } finally {
        current.decrementAndGet();
      }
    }
  }

  /** Collects reports from the results topic, by job id. */
  static final class Results implements AutoCloseable {
    final Map<UUID, AttemptReport> outcomes = new ConcurrentHashMap<>();
    final AtomicInteger outcomeRecords = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;

    Results(FerryConfig config) {
      KafkaConsumer<String, byte[]> c =
          KafkaClients.consumer(config, "test-results-" + UUID.randomUUID(), "test", Map.of());
      c.subscribe(List.of(Topics.withPrefix(config.topicPrefix()).results()));
      thread =
          Thread.ofPlatform()
              .name("test-results")
              .start(
                  () -> {
                    try (c) {
                      while (running) {
                        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                          try {
                            AttemptReport rep = WireCodec.decodeReport(r.value());
                            if (!rep.isStartNotice()) {
                              outcomes.put(rep.jobId(), rep);
                              outcomeRecords.incrementAndGet();
                            }
                          } catch (java.io.IOException e) {
                            throw new IllegalStateException(e);
                          }
                        }
                      }
                    }
                  });
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join();
    }
  }

  private static void produceWork(FerryConfig config, String type, int n, String payloadJson)
      throws Exception {
    String topic = Topics.withPrefix(config.topicPrefix()).work();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "test-work")) {
      for (int i = 0; i < n; i++) {
        UUID id = UUID.randomUUID();
        WorkItem w = new WorkItem(id, 1, 1L, type, FerryJson.parse(payloadJson), null, 60_000);
        var unused = p.send(new ProducerRecord<>(topic, id.toString(), WireCodec.encode(w)));
      }
      p.flush();
    }
  }

  @Test
  void concurrencyLimit_isNeverExceeded_andFetchingStopsWhileFull(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config().with(Setting.WORKER_CONCURRENCY, "4");
    GateHandler gate = new GateHandler();
    Results results = env.closeAfter(new Results(config));
    Worker worker = env.closeAfter(Worker.start(config, List.of(gate)));
    produceWork(config, "gate", 200, "{}");

    await().atMost(Duration.ofSeconds(60)).until(() -> gate.current.get() == 4);
    // While full: no fifth job starts, the consumer is paused and holds at most one poll batch.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                gate.current.get() == 4
                    && worker.pollLoop().isPaused()
                    && worker.pollLoop().buffered() <= 10);
    assertThat(gate.runs.get()).isEqualTo(4);

    gate.release.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.size() == 200);
    assertThat(gate.max.get()).isEqualTo(4);
    assertThat(worker.pollLoop().maxInFlight()).isEqualTo(4);
    assertThat(gate.runs.get()).isEqualTo(200);
    assertThat(results.outcomes.values())
        .allSatisfy(r -> assertThat(r.outcome()).isInstanceOf(Outcome.Succeeded.class));
  }

  @Test
  void blockedHandlers_doNotPushTheConsumerOutOfItsGroup(FerryTestEnv env) throws Exception {
    FerryConfig config =
        env.config()
            .with(Setting.WORKER_CONCURRENCY, "3")
            .withKafka("max.poll.interval.ms", "2000")
            .withKafka("session.timeout.ms", "6000")
            .withKafka("heartbeat.interval.ms", "500");
    GateHandler gate = new GateHandler();
    Results results = env.closeAfter(new Results(config));
    Worker worker = env.closeAfter(Worker.start(config, List.of(gate)));
    produceWork(config, "gate", 20, "{}");
    await().atMost(Duration.ofSeconds(60)).until(() -> gate.current.get() == 3);
    int assignedBefore = worker.pollLoop().assignments();

    // Three times max.poll.interval.ms with every handler blocked: the group must not notice.
    await()
        .during(Duration.ofSeconds(6))
        .atMost(Duration.ofSeconds(10))
        .until(() -> worker.pollLoop().revocations() == 0);

    gate.release.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.size() == 20);
    assertThat(worker.pollLoop().revocations()).isZero();
    assertThat(worker.pollLoop().assignments()).isEqualTo(assignedBefore);
    assertThat(gate.runs.get()).as("no job ran twice").isEqualTo(20);
  }

  @Test
  void gracefulShutdown_finishesInFlightJobsAndCommitsThem(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.WORKER_CONCURRENCY, "10");
    Results results = env.closeAfter(new Results(config));
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
            TimeUnit.MILLISECONDS.sleep(1500);
            return JobResult.success(null);
          }
        };
    Worker worker = Worker.start(config, List.of(slow));
    produceWork(config, "slow", 10, "{}");
    await().atMost(Duration.ofSeconds(60)).until(() -> started.get() == 10);

    worker.close();

    assertThat(results.outcomes).hasSizeLessThanOrEqualTo(10);
    await().atMost(Duration.ofSeconds(30)).until(() -> results.outcomes.size() == 10);
    assertThat(results.outcomes.values())
        .allSatisfy(r -> assertThat(r.outcome()).isInstanceOf(Outcome.Succeeded.class));
    // Every record is committed: nothing will be redelivered to the next worker.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", env.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(config.topicPrefix() + "workers")
              .partitionsToOffsetAndMetadata()
              .get();
      long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
      assertThat(total).isEqualTo(10);
    }
  }

  @Test
  void anyThrowable_becomesARecordedOutcome(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Results results = env.closeAfter(new Results(config));
    JobHandler thrower =
        new JobHandler() {
          @Override
          public String type() {
            return "thrower";
          }

          @Override
          public JobResult handle(JobContext ctx) {
            switch (ctx.payload().path("kind").asText()) {
              case "runtime" -> throw new IllegalStateException("runtime boom");
              case "error" -> throw new AssertionError("error boom");
              case "stack" -> throw new StackOverflowError("stack boom");
              default -> {
                return null;
              }
            }
          }
        };
    env.closeAfter(Worker.start(config, List.of(thrower)));
    produceWork(config, "thrower", 1, "{\"kind\":\"runtime\"}");
    produceWork(config, "thrower", 1, "{\"kind\":\"error\"}");
    produceWork(config, "thrower", 1, "{\"kind\":\"stack\"}");
    produceWork(config, "thrower", 1, "{\"kind\":\"null\"}");
    produceWork(config, "no-such-type", 1, "{}");
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.size() == 5);
    List<String> errors =
        results.outcomes.values().stream()
            .map(r -> (Outcome.Failed) r.outcome())
            .map(Outcome.Failed::error)
            .toList();
    assertThat(errors)
        .anySatisfy(e -> assertThat(e).contains("IllegalStateException: runtime boom"))
        .anySatisfy(e -> assertThat(e).contains("AssertionError: error boom"))
        .anySatisfy(e -> assertThat(e).contains("StackOverflowError: stack boom"))
        .anySatisfy(e -> assertThat(e).contains("handler returned null"))
        .anySatisfy(e -> assertThat(e).contains("unknown job type 'no-such-type'"));
    assertThat(results.outcomes.values())
        .filteredOn(r -> ((Outcome.Failed) r.outcome()).error().contains("unknown job type"))
        .allSatisfy(r -> assertThat(((Outcome.Failed) r.outcome()).retryable()).isFalse());
  }

  @Test
  void bulkhead_limitsConcurrentCallsPerDependency_otherDependenciesKeepRunning(FerryTestEnv env)
      throws Exception {
    FerryConfig config =
        env.config().with(Setting.WORKER_CONCURRENCY, "10").with(Setting.BREAKER_BULKHEAD, "2");
    Map<String, AtomicInteger> current = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> max = new ConcurrentHashMap<>();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger fastDone = new AtomicInteger();
    JobHandler dep =
        new JobHandler() {
          @Override
          public String type() {
            return "dep";
          }

          @Override
          public JobResult handle(JobContext ctx) throws InterruptedException {
            String d = ctx.dependency();
            int n = current.computeIfAbsent(d, k -> new AtomicInteger()).incrementAndGet();
            max.computeIfAbsent(d, k -> new AtomicInteger()).accumulateAndGet(n, Math::max);
            try {
              if (d.equals("slow-api")) {
                release.await();
              } else {
                fastDone.incrementAndGet();
              }
              return JobResult.success(null);
            } finally {
              current.get(d).decrementAndGet();
            }
          }
        };
    Results results = env.closeAfter(new Results(config));
    Worker worker = env.closeAfter(Worker.start(config, List.of(dep)));
    String topic = Topics.withPrefix(config.topicPrefix()).work();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "test-work")) {
      for (int i = 0; i < 22; i++) {
        String d = i < 12 ? "slow-api" : "fast-api";
        UUID id = UUID.randomUUID();
        WorkItem w = new WorkItem(id, 1, 1L, "dep", FerryJson.object(), d, 60_000);
        var unused = p.send(new ProducerRecord<>(topic, id.toString(), WireCodec.encode(w)));
      }
      p.flush();
    }
    // The slow dependency is held at its bulkhead while the fast one's jobs all run.
    await().atMost(Duration.ofSeconds(60)).until(() -> fastDone.get() == 10);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(3))
        .until(() -> current.get("slow-api").get() == 2);
    assertThat(worker.pollLoop().inFlight()).isEqualTo(2);
    release.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> results.outcomes.size() == 22);
    assertThat(max.get("slow-api").get()).isEqualTo(2);
    assertThat(max.get("fast-api").get()).isLessThanOrEqualTo(2);
  }

  @Test
  void timeout_interruptsTheHandlerAndReportsTimedOut(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Results results = env.closeAfter(new Results(config));
    env.closeAfter(Worker.start(config, List.of()));
    String topic = Topics.withPrefix(config.topicPrefix()).work();
    UUID id = UUID.randomUUID();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "test-work")) {
      WorkItem w = new WorkItem(id, 1, 1L, "sleep", FerryJson.parse("{\"ms\":60000}"), null, 300);
      p.send(new ProducerRecord<>(topic, id.toString(), WireCodec.encode(w))).get();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> results.outcomes.containsKey(id));
    assertThat(results.outcomes.get(id).outcome()).isInstanceOf(Outcome.TimedOut.class);
  }
}
