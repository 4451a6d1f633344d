package dev.ferry.orchestrator;

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
import dev.ferry.orchestrator.intake.IntakeStore;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The orchestrator alone on real Kafka and Postgres. A scripted stand-in worker (a plain consumer
 * of the work topic and producer of attempt reports) plays the worker's part, so each test decides
 * exactly which outcomes arrive, duplicates included.
 */
@ExtendWith(FerryExtension.class)
class OrchestratorIT {

  /** Consumes work items and answers each with the outcome the script gives. */
  static final class ScriptedWorker implements AutoCloseable {
    final Map<String, AtomicInteger> dispatches = new ConcurrentHashMap<>();
    final Map<UUID, Instant> firstSeen = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    ScriptedWorker(FerryConfig config, Function<WorkItem, Outcome> script) {
      Topics t = Topics.withPrefix(config.topicPrefix());
      KafkaConsumer<String, byte[]> c =
          KafkaClients.consumer(config, "scripted-" + UUID.randomUUID(), "scripted", Map.of());
      KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "scripted");
      c.subscribe(List.of(t.work()));
      thread =
          Thread.ofPlatform()
              .name("scripted-worker")
              .start(
                  () -> {
                    try (c;
                        p) {
                      while (running) {
                        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(50))) {
                          WorkItem w;
                          try {
                            w = WireCodec.decodeWorkItem(r.value());
                          } catch (java.io.IOException e) {
                            throw new IllegalStateException(e);
                          }
                          firstSeen.putIfAbsent(w.id(), Instant.now());
                          dispatches
                              .computeIfAbsent(w.id() + "#" + w.attempt(), k -> new AtomicInteger())
                              .incrementAndGet();
                          Instant now = Instant.now();
                          var unused =
                              p.send(
                                  new ProducerRecord<>(
                                      t.results(),
                                      w.id().toString(),
                                      WireCodec.encode(
                                          new AttemptReport(
                                              w.id(),
                                              w.attempt(),
                                              w.run(),
                                              "scripted",
                                              now,
                                              now,
                                              script.apply(w)))));
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

  static void submit(FerryTestEnv env, FerryConfig config, String json) throws Exception {
    env.rawProducer()
        .send(
            new ProducerRecord<>(
                Topics.withPrefix(config.topicPrefix()).submit(),
                json.getBytes(StandardCharsets.UTF_8)))
        .get();
  }

  static long count(FerryTestEnv env, String sql, Object... args) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static String text(FerryTestEnv env, String sql, Object... args) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  @Test
  void twoOrchestrators_dispatchEveryJobExactlyOnce(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    env.closeAfter(Orchestrator.start(config));
    env.closeAfter(Orchestrator.start(config));
    ScriptedWorker worker =
        env.closeAfter(
            new ScriptedWorker(
                config, w -> new Outcome.Succeeded(FerryJson.parse("{\"ok\":true}"))));
    int n = 2_000;
    KafkaProducer<byte[], byte[]> p = env.rawProducer();
    String topic = Topics.withPrefix(config.topicPrefix()).submit();
    for (int i = 0; i < n; i++) {
      var unused =
          p.send(
              new ProducerRecord<>(
                  topic,
                  ("{\"type\":\"noop\",\"payload\":{\"i\":" + i + "}}")
                      .getBytes(StandardCharsets.UTF_8)));
    }
    p.flush();
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> count(env, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'") == n);
    assertThat(worker.dispatches).hasSize(n);
    assertThat(worker.dispatches.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    assertThat(count(env, "SELECT count(*) FROM ferry.job_attempts")).isEqualTo(n);
  }

  @Test
  void duplicateAndStaleOutcomes_changeNothing(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Topics topics = Topics.withPrefix(config.topicPrefix());
    env.closeAfter(Orchestrator.start(config));
    env.closeAfter(
        new ScriptedWorker(
            config,
            w ->
                w.attempt() == 1
                    ? new Outcome.Failed("first try fails", true)
                    : new Outcome.Succeeded(FerryJson.parse("{\"answer\":42}"))));
    UUID id = UUID.randomUUID();
    submit(
        env,
        config,
        "{\"id\":\""
            + id
            + "\",\"type\":\"noop\",\"maxAttempts\":3,"
            + "\"backoff\":{\"strategy\":\"fixed\",\"initialMs\":50,\"maxMs\":50,\"jitter\":0}}");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> "SUCCEEDED".equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id)));

    // Replay: the same outcome again with another result, a stale failure of attempt 1, a
    // late start notice of attempt 1, and an outcome for an attempt that never existed.
    Instant now = Instant.now();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "replay")) {
      for (AttemptReport r :
          List.of(
              new AttemptReport(
                  id,
                  2,
                  2L,
                  "dup",
                  now,
                  now,
                  new Outcome.Succeeded(FerryJson.parse("{\"answer\":0}"))),
              new AttemptReport(
                  id, 2, 2L, "dup", now, now, new Outcome.Failed("late failure", true)),
              new AttemptReport(
                  id, 2, 1L, "old-run", now, now, new Outcome.Failed("old run", true)),
              new AttemptReport(id, 1, 1L, "stale", now, now, new Outcome.Failed("stale", false)),
              AttemptReport.started(id, 1, 1L, "stale", now),
              new AttemptReport(id, 7, 7L, "future", now, now, new Outcome.Succeeded(null)))) {
        p.send(new ProducerRecord<>(topics.results(), id.toString(), WireCodec.encode(r))).get();
      }
    }
    awaitApplierCaughtUp(env, config);

    assertThat(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id)).isEqualTo("SUCCEEDED");
    assertThat(text(env, "SELECT result::text FROM ferry.jobs WHERE id = ?", id))
        .isEqualTo("{\"answer\": 42}");
    assertThat(count(env, "SELECT attempts FROM ferry.jobs WHERE id = ?", id)).isEqualTo(2);
    assertThat(
            text(
                env,
                "SELECT string_agg(attempt || ':' || outcome || ':' || worker_id, ',' "
                    + "ORDER BY attempt) FROM ferry.job_attempts WHERE job_id = ?",
                id))
        .isEqualTo("1:FAILED:scripted,2:SUCCEEDED:scripted");

    // Events: one RETRY_WAIT and one SUCCEEDED, nothing from the replays.
    Map<String, Object> c =
        Map.of(
            "bootstrap.servers",
            env.bootstrapServers(),
            "group.id",
            "events-" + UUID.randomUUID(),
            "auto.offset.reset",
            "earliest");
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            c,
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topics.events()));
      List<String> statuses = new java.util.ArrayList<>();
      // Ends as soon as both events are read and the consumer is at the end of the topic; the
      // deadline only bounds a slow group join on a loaded machine.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          statuses.add(WireCodec.decodeEvent(r.value()).status().name());
        }
        if (statuses.size() >= 2
            && consumer.assignment().stream()
                .allMatch(tp -> consumer.position(tp) >= consumer.endOffsets(Set.of(tp)).get(tp))) {
          break;
        }
      }
      assertThat(statuses).containsExactly("RETRY_WAIT", "SUCCEEDED");
    }
  }

  @Test
  void futureRunAt_isDispatchedOnTimeNotBefore(FerryTestEnv env) throws Exception {
    // A safety-net poll far longer than the bound below: only the dispatcher's wake-up at the
    // next due time can dispatch the job in time, however loaded the machine is.
    FerryConfig config = env.config().with(Setting.DISPATCH_POLL_MS, "30000");
    env.closeAfter(Orchestrator.start(config));
    ScriptedWorker worker =
        env.closeAfter(new ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    UUID id = UUID.randomUUID();
    Instant runAt = Instant.now().plusSeconds(3);
    submit(env, config, "{\"id\":\"" + id + "\",\"type\":\"noop\",\"runAt\":\"" + runAt + "\"}");
    await().atMost(Duration.ofSeconds(30)).until(() -> worker.firstSeen.containsKey(id));
    Instant seen = worker.firstSeen.get(id);
    assertThat(seen).isAfterOrEqualTo(runAt);
    // Generous for a loaded 2-core machine, and still a third of the 30 s poll.
    assertThat(Duration.between(runAt, seen)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void intake_queuesDueJobsItself_andLeavesDelayedAndHeldBackOnesToTheDispatcher(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    env.closeAfter(Orchestrator.start(config));
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ferry.circuit_breakers (dependency, state, retry_at) "
                    + "VALUES ('down', 'OPEN', now() + interval '1 hour')")) {
      ps.executeUpdate();
    }
    UUID due = UUID.randomUUID();
    UUID later = UUID.randomUUID();
    UUID heldBack = UUID.randomUUID();
    submit(env, config, "{\"id\":\"" + due + "\",\"type\":\"noop\"}");
    submit(
        env,
        config,
        "{\"id\":\""
            + later
            + "\",\"type\":\"noop\",\"runAt\":\""
            + Instant.now().plusSeconds(3600)
            + "\"}");
    submit(env, config, "{\"id\":\"" + heldBack + "\",\"type\":\"noop\",\"dependency\":\"down\"}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(env, "SELECT count(*) FROM ferry.jobs") == 3);

    // Queued in the transaction that inserted it (a dispatcher claim would be a later one).
    assertThat(
            text(
                env,
                "SELECT status || ':' || attempts || ':' || run_seq || ':' "
                    + "|| (updated_at = created_at) FROM ferry.jobs WHERE id = ?",
                due))
        .isEqualTo("QUEUED:1:1:true");
    assertThat(text(env, "SELECT status || ':' || attempts FROM ferry.jobs WHERE id = ?", later))
        .isEqualTo("PENDING:0");
    assertThat(text(env, "SELECT status || ':' || attempts FROM ferry.jobs WHERE id = ?", heldBack))
        .isEqualTo("PENDING:0");

    // Its work item is on the topic once, as attempt 1 of run 1.
    ScriptedWorker worker =
        env.closeAfter(new ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> "SUCCEEDED".equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", due)));
    assertThat(worker.dispatches).containsOnlyKeys(due + "#1");
    assertThat(worker.dispatches.get(due + "#1").get()).isEqualTo(1);
  }

  @Test
  void sameIdThreeTimesInOneIntakeBatch_isInsertedAndDispatchedOnce_firstCopyWins(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    String submit = Topics.withPrefix(config.topicPrefix()).submit();
    UUID id = UUID.randomUUID();
    // All on the topic, in one partition, before the orchestrator starts: its first poll takes
    // them together.
    for (int copy = 0; copy < 3; copy++) {
      submitToPartition0(
          env,
          submit,
          "{\"id\":\"" + id + "\",\"type\":\"noop\",\"payload\":{\"copy\":" + copy + "}}");
    }
    UUID marker = UUID.randomUUID();
    submitToPartition0(env, submit, "{\"id\":\"" + marker + "\",\"type\":\"noop\"}");
    env.closeAfter(new ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    env.closeAfter(Orchestrator.start(config));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                count(
                        env,
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED' AND id IN (?, ?)",
                        id,
                        marker)
                    == 2);
    // The marker came after the copies in the same partition: every copy has been taken in.
    awaitApplierCaughtUp(env, config);
    assertThat(count(env, "SELECT count(*) FROM ferry.jobs WHERE id = ?", id)).isEqualTo(1);
    assertThat(text(env, "SELECT payload::text FROM ferry.jobs WHERE id = ?", id))
        .isEqualTo("{\"copy\": 0}");
    assertThat(count(env, "SELECT count(*) FROM ferry.job_attempts WHERE job_id = ?", id))
        .isEqualTo(1);
    // Work items are acknowledged before their rows commit: the topic holds all there will be.
    assertThat(workItemPayloads(env, config, id)).containsExactly("{\"copy\":0}");
  }

  @Test
  void parentSubmittedAgainWithOtherChildren_addsNoChildren_inTheSameBatchOrLater(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    String submit = Topics.withPrefix(config.topicPrefix()).submit();
    UUID parent = UUID.randomUUID();
    UUID first = UUID.randomUUID();
    UUID sameBatch = UUID.randomUUID();
    UUID later = UUID.randomUUID();
    java.util.function.Function<List<UUID>, String> tree =
        kids ->
            "{\"id\":\""
                + parent
                + "\",\"children\":["
                + String.join(
                    ",",
                    kids.stream().map(k -> "{\"id\":\"" + k + "\",\"type\":\"noop\"}").toList())
                + "]}";
    // Two copies in one partition before the orchestrator starts (one poll batch), the second
    // with one more child.
    submitToPartition0(env, submit, tree.apply(List.of(first)));
    submitToPartition0(env, submit, tree.apply(List.of(first, sameBatch)));
    env.closeAfter(new ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    env.closeAfter(Orchestrator.start(config));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                "SUCCEEDED"
                    .equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", parent)));
    // A third copy, with another child, once the parent is there; then a marker behind it.
    UUID marker = UUID.randomUUID();
    submitToPartition0(env, submit, tree.apply(List.of(later)));
    submitToPartition0(env, submit, "{\"id\":\"" + marker + "\",\"type\":\"noop\"}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(env, "SELECT count(*) FROM ferry.jobs WHERE id = ?", marker) == 1);
    assertThat(
            text(
                env,
                "SELECT string_agg(id::text, ',') FROM ferry.jobs WHERE parent_id = ?",
                parent))
        .isEqualTo(first.toString());
    assertThat(count(env, "SELECT count(*) FROM ferry.jobs WHERE id IN (?, ?)", sameBatch, later))
        .isZero();
    assertThat(count(env, "SELECT children_total FROM ferry.jobs WHERE id = ?", parent))
        .isEqualTo(1);
  }

  /**
   * Produces a submission to partition 0 (so that several keep their order) and waits for the ack.
   */
  private static void submitToPartition0(FerryTestEnv env, String submitTopic, String json)
      throws Exception {
    env.rawProducer()
        .send(new ProducerRecord<>(submitTopic, 0, null, json.getBytes(StandardCharsets.UTF_8)))
        .get();
  }

  /** The payloads of every work item for the job on the work topic, from start to end. */
  private static List<String> workItemPayloads(FerryTestEnv env, FerryConfig config, UUID id)
      throws Exception {
    String work = Topics.withPrefix(config.topicPrefix()).work();
    List<String> payloads = new java.util.ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.<String, Object>of("bootstrap.servers", env.bootstrapServers()),
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(work).stream()
              .map(p -> new TopicPartition(work, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                  if (id.toString().equals(r.key())) {
                    payloads.add(WireCodec.decodeWorkItem(r.value()).payload().toString());
                  }
                }
                return parts.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
              });
    }
    return payloads;
  }

  @Test
  void intakeDispatchOff_everyJobGoesThroughTheDispatcher(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.INTAKE_DISPATCH, "false");
    env.closeAfter(Orchestrator.start(config));
    UUID id = UUID.randomUUID();
    submit(env, config, "{\"id\":\"" + id + "\",\"type\":\"noop\"}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "QUEUED".equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id)));
    // Claimed in a later transaction than the one that inserted it.
    assertThat(
            text(
                env,
                "SELECT attempts || ':' || (updated_at > created_at) FROM ferry.jobs "
                    + "WHERE id = ?",
                id))
        .isEqualTo("1:true");
    ScriptedWorker worker =
        env.closeAfter(new ScriptedWorker(config, w -> new Outcome.Succeeded(null)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> "SUCCEEDED".equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id)));
    assertThat(worker.dispatches).containsOnlyKeys(id + "#1");
  }

  @Test
  void outcomeArrivingBeforeTheIntakeCommit_isAppliedOnceTheRowCommits(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Topics topics = Topics.withPrefix(config.topicPrefix());
    env.closeAfter(Orchestrator.start(config));
    UUID id = UUID.randomUUID();
    try (Connection intake = env.dataSource().getConnection()) {
      // What intake does: hold the lock shared, insert the job QUEUED, put it out; here a
      // worker answers before the insert commits.
      intake.setAutoCommit(false);
      try (PreparedStatement ps =
          intake.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
        ps.setLong(1, IntakeStore.INTAKE_LOCK);
        ps.execute();
      }
      try (PreparedStatement ps =
          intake.prepareStatement(
              "INSERT INTO ferry.jobs (id, type, status, attempts, run_seq, max_attempts, timeout_ms) "
                  + "VALUES (?, 'noop', 'QUEUED', 1, 1, 3, 1000)")) {
        ps.setObject(1, id);
        ps.executeUpdate();
      }
      Instant now = Instant.now();
      try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "fast-worker")) {
        p.send(
                new ProducerRecord<>(
                    topics.results(),
                    id.toString(),
                    WireCodec.encode(
                        new AttemptReport(
                            id,
                            1,
                            1L,
                            "fast",
                            now,
                            now,
                            new Outcome.Succeeded(FerryJson.parse("{\"early\":true}"))))))
            .get();
      }
      // The applier met an unknown job and waits for in-flight intake transactions.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  count(
                          env,
                          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                      == 1);
      assertThat(count(env, "SELECT count(*) FROM ferry.jobs WHERE id = ?", id)).isZero();
      intake.commit();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> "SUCCEEDED".equals(text(env, "SELECT status FROM ferry.jobs WHERE id = ?", id)));
    assertThat(text(env, "SELECT result::text FROM ferry.jobs WHERE id = ?", id))
        .isEqualTo("{\"early\": true}");
  }

  private static void awaitApplierCaughtUp(FerryTestEnv env, FerryConfig config) {
    String group = config.topicPrefix() + "orchestrator-applier";
    String results = Topics.withPrefix(config.topicPrefix()).results();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", env.bootstrapServers()))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                var ends =
                    admin
                        .listOffsets(
                            committed.keySet().stream()
                                .filter(tp -> tp.topic().equals(results))
                                .collect(
                                    java.util.stream.Collectors.toMap(
                                        tp -> tp, tp -> OffsetSpec.latest())))
                        .all()
                        .get();
                return !ends.isEmpty()
                    && ends.entrySet().stream()
                        .allMatch(e -> committed.get(e.getKey()).offset() >= e.getValue().offset());
              });
    }
  }
}
