package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A generative test of intake against hostile input: valid submissions are mutated in many ways
 * (NUL anywhere, extreme numbers and dates, huge and deeply nested values, odd Unicode, wrong
 * types, duplicate ids, fields and keys, garbage bytes, and values PostgreSQL refuses although they
 * pass validation) and interleaved on one partition with valid jobs. Every valid job must succeed,
 * every bad record must be rejected with a reason that names its problem (a row in {@code
 * ferry.rejected_submissions} and a DLQ record), and nothing may stall intake. Seeded: {@code
 * -Dferry.seed=N} replays a run (the seed is printed).
 */
@ExtendWith(FerryExtension.class)
class HostileInputIT {
  private static final long SEED = Long.getLong("ferry.seed", System.nanoTime());
  private static final int RECORDS = 300;

  /** One record sent: its bytes, the job id of a valid one, the reason fragment of a bad one. */
  record Case(String mutation, byte[] value, UUID validId, String reason) {
    boolean valid() {
      return validId != null;
    }
  }

  @Test
  void hostileSubmissions_interleavedWithValidOnes_areRejectedWithReasons_andIntakeNeverStalls(
      FerryTestEnv env) throws Exception {
    System.out.println("HostileInputIT seed=" + SEED + " (replay with -Dferry.seed=" + SEED + ")");
    Random r = new Random(SEED);
    FerryConfig config =
        env.config()
            .with(Setting.SUBMIT_MAX_BYTES, "262144")
            // Work items (and DLQ copies) over 64 KiB are more than the orchestrator may produce.
            .withKafka("max.request.size", "65536");
    Orchestrator orchestrator = Harness.orchestrator(env, config);
    // A refusal no validation knows of: PostgreSQL refuses any payload with a "refuse" field.
    execute(
        env, "ALTER TABLE ferry.jobs ADD CONSTRAINT test_refuse CHECK (NOT payload ? 'refuse')");
    Harness.worker(env, config);

    List<Case> cases = new ArrayList<>();
    Map<String, Integer> mutations = new HashMap<>();
    for (int i = 0; i < RECORDS; i++) {
      if (r.nextBoolean()) {
        UUID id = UUID.randomUUID();
        cases.add(new Case("valid", bytes(valid(r, id)), id, null));
      } else {
        Case c = mutate(r);
        mutations.merge(c.mutation(), 1, Integer::sum);
        cases.add(c);
      }
    }
    System.out.println("HostileInputIT mutations: " + mutations);

    String submit = Topics.withPrefix(config.topicPrefix()).submit();
    KafkaProducer<byte[], byte[]> producer = env.rawProducer();
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    for (Case c : cases) {
      sends.add(producer.send(new ProducerRecord<>(submit, 0, null, c.value())));
    }
    producer.flush();
    List<RecordMetadata> sent = new ArrayList<>();
    for (Future<RecordMetadata> f : sends) {
      sent.add(f.get());
    }

    List<UUID> validIds = cases.stream().filter(Case::valid).map(Case::validId).toList();
    long bad = cases.stream().filter(c -> !c.valid()).count();
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                Harness.countIds(
                            env.dataSource(),
                            "SELECT count(*) FROM ferry.jobs WHERE id = ANY(?) AND status = 'SUCCEEDED'",
                            validIds)
                        == validIds.size()
                    && Harness.count(
                            env.dataSource(),
                            "SELECT count(*) FROM ferry.rejected_submissions WHERE topic = ?",
                            submit)
                        == bad);

    // Each bad record: rejected at its own offset with a reason naming its problem.
    Map<Long, String> reasons = new HashMap<>();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT \"offset\", reason FROM ferry.rejected_submissions WHERE topic = ?")) {
      ps.setString(1, submit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          reasons.put(rs.getLong(1), rs.getString(2));
        }
      }
    }
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      long offset = sent.get(i).offset();
      if (c.valid()) {
        assertThat(reasons).as("valid record at %d", offset).doesNotContainKey(offset);
      } else {
        assertThat(reasons.get(offset))
            .as("reason of %s at %d (seed %d)", c.mutation(), offset, SEED)
            .isNotNull()
            .contains(c.reason())
            .doesNotContain("\n")
            .doesNotContain("\r");
      }
    }
    // Nothing of a rejected tree was stored: only the valid jobs (and their children) exist.
    assertThat(
            Harness.count(
                env.dataSource(), "SELECT count(*) FROM ferry.jobs WHERE parent_id IS NULL"))
        .isEqualTo(validIds.size());

    // The DLQ has every bad record with its reason; one too large to copy has no value.
    List<ConsumerRecord<byte[], byte[]>> dlq =
        Harness.readTopic(env, Topics.withPrefix(config.topicPrefix()).dlq(), (int) bad);
    assertThat(dlq).hasSize((int) bad);
    for (ConsumerRecord<byte[], byte[]> d : dlq) {
      Header h = d.headers().lastHeader("ferry-error");
      assertThat(h).isNotNull();
      String reason = new String(h.value(), StandardCharsets.UTF_8);
      assertThat(reason).doesNotContain("\n");
      if (d.value() == null) {
        assertThat(reason).contains("too large to copy to the DLQ");
      }
    }

    // PostgreSQL's refusals were found by bisection and counted.
    long refused = cases.stream().filter(c -> c.mutation().startsWith("db-refuses")).count();
    assertThat(
            MetricsIT.value(
                scrape(orchestrator.healthPort()),
                "ferry_quarantined_total",
                "loop=\"ferry-intake\""))
        .isEqualTo((double) refused);

    // How long a bad record held up the next valid job behind it (submit → SUCCEEDED).
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      if (cases.get(i).valid()) {
        continue;
      }
      for (int j = i + 1; j < cases.size(); j++) {
        if (cases.get(j).valid()) {
          delays.add(finishedMs(env, cases.get(j).validId()) - sent.get(i).timestamp());
          break;
        }
      }
    }
    delays.sort(null);
    if (!delays.isEmpty()) {
      System.out.printf(
          "RESULT hostile-intake records=%d bad=%d poison_to_next_success_ms"
              + " p50=%d p99=%d max=%d seed=%d%n",
          cases.size(),
          bad,
          delays.get(delays.size() / 2),
          delays.get((int) (delays.size() * 0.99)),
          delays.get(delays.size() - 1),
          SEED);
    }
  }

  /**
   * One poison record, then one valid job, again and again: how long the poison holds the valid job
   * up (submit of the poison → the valid job SUCCEEDED), per kind of isolation.
   */
  @Test
  void pacedPoison_theNextValidJobStillSucceedsPromptly(FerryTestEnv env) throws Exception {
    Random r = new Random(SEED);
    FerryConfig config =
        env.config()
            .with(Setting.SUBMIT_MAX_BYTES, "262144")
            .withKafka("max.request.size", "65536");
    Harness.orchestrator(env, config);
    execute(
        env, "ALTER TABLE ferry.jobs ADD CONSTRAINT test_refuse CHECK (NOT payload ? 'refuse')");
    Harness.worker(env, config);
    String submit = Topics.withPrefix(config.topicPrefix()).submit();
    KafkaProducer<byte[], byte[]> producer = env.rawProducer();
    Map<String, List<Long>> delays = new java.util.TreeMap<>();
    for (int i = 0; i < 60; i++) {
      // Half the poison is refused by PostgreSQL (bisection), half by validation.
      Case poison = mutate(r);
      while (i % 2 == 0 && !poison.mutation().startsWith("db-refuses")) {
        poison = mutate(r);
      }
      UUID id = UUID.randomUUID();
      RecordMetadata sent =
          producer.send(new ProducerRecord<>(submit, 0, null, poison.value())).get();
      producer.send(new ProducerRecord<>(submit, 0, null, bytes(valid(r, id)))).get();
      Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
      delays
          .computeIfAbsent(i % 2 == 0 ? "bisected" : "validated", k -> new ArrayList<>())
          .add(finishedMs(env, id) - sent.timestamp());
    }
    delays.forEach(
        (kind, d) -> {
          d.sort(null);
          System.out.printf(
              "RESULT hostile-intake-paced kind=%s n=%d poison_to_next_success_ms"
                  + " p50=%d p99=%d max=%d%n",
              kind,
              d.size(),
              d.get(d.size() / 2),
              d.get((int) Math.ceil(d.size() * 0.99) - 1),
              d.get(d.size() - 1));
        });
  }

  /**
   * A batch that keeps failing with a transient error is retried (not isolated: nothing is
   * rejected) and the orchestrator reports not ready until it goes through.
   */
  @Test
  void batchFailingTransiently_isRetried_andTheOrchestratorIsNotReadyMeanwhile(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Orchestrator orchestrator = Harness.orchestrator(env, config);
    Harness.worker(env, config);
    // PostgreSQL answers "serialization failure" (transient) for any job marked busy.
    execute(
        env,
        "CREATE FUNCTION ferry.test_busy() RETURNS trigger LANGUAGE plpgsql AS $$"
            + " BEGIN IF NEW.payload ? 'busy' THEN RAISE EXCEPTION 'busy, try again'"
            + " USING ERRCODE = '40001'; END IF; RETURN NEW; END $$");
    execute(
        env,
        "CREATE TRIGGER test_busy BEFORE INSERT ON ferry.jobs FOR EACH ROW"
            + " EXECUTE FUNCTION ferry.test_busy()");
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        0,
        "{\"id\":\"" + id + "\",\"type\":\"noop\"," + "\"payload\":{\"busy\":true}}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              HttpResponse<String> r = health(orchestrator.healthPort(), "/health/ready");
              return r.statusCode() == 503
                  && health(orchestrator.healthPort(), "/health")
                      .body()
                      .contains("busy, try again");
            });
    assertThat(Harness.count(env.dataSource(), "SELECT count(*) FROM ferry.rejected_submissions"))
        .isZero();

    execute(env, "DROP TRIGGER test_busy ON ferry.jobs");
    Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> health(orchestrator.healthPort(), "/health/ready").statusCode() == 200);
  }

  private static HttpResponse<String> health(int port, String path) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  // ---- generation ----

  private static final String[] ODD = {
    "\uD83D\uDE00",
    "\u202Eevil",
    "\u200B",
    "\uFEFF",
    "ä\u0301",
    "\\u0000 as text",
    "\t",
    "\u0001",
    "日本語",
    "\uD800\uDC00",
    "'; DROP TABLE ferry.jobs; --",
    "<script>x</script>"
  };

  static ObjectNode valid(Random r, UUID id) {
    ObjectNode s = FerryJson.object();
    s.put("id", id.toString());
    s.put("type", "echo");
    s.set("payload", value(r, 0));
    if (r.nextInt(4) == 0) {
      s.put("maxAttempts", 1 + r.nextInt(5));
    }
    if (r.nextInt(5) == 0) {
      s.put("key", "k" + r.nextInt(1000));
    }
    if (r.nextInt(6) == 0) {
      s.remove("type");
      ArrayNode kids = s.putArray("children");
      int n = 1 + r.nextInt(3);
      for (int i = 0; i < n; i++) {
        kids.addObject().put("type", "noop").put("key", "c" + i);
      }
    }
    return s;
  }

  private static JsonNode value(Random r, int depth) {
    ObjectNode o = FerryJson.object();
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      String k = r.nextInt(4) == 0 ? ODD[r.nextInt(ODD.length)] : "f" + i;
      switch (r.nextInt(depth < 4 ? 5 : 3)) {
        case 0 -> o.put(k, ODD[r.nextInt(ODD.length)] + r.nextInt());
        case 1 -> o.put(k, r.nextBoolean() ? r.nextLong() : r.nextDouble() * 1e300);
        case 2 -> o.putNull(k);
        case 3 -> o.set(k, value(r, depth + 1));
        default -> o.putArray(k).add(r.nextInt()).add(value(r, depth + 1));
      }
    }
    return o;
  }

  /** A bad record: one mutation of a valid submission (or no submission at all). */
  static Case mutate(Random r) {
    UUID id = UUID.randomUUID();
    ObjectNode s = valid(r, id);
    s.put("type", "echo");
    s.remove("children");
    ObjectNode p = FerryJson.object();
    s.set("payload", p);
    int m = r.nextInt(24);
    return switch (m) {
      case 0 ->
          text(
              "nul-in-value",
              json(s).replace("\"payload\":{}", "\"payload\":{\"a\":{\"b\":\"x\\u0000y\"}}"),
              "field 'payload.a.b' contains the NUL");
      case 1 ->
          text(
              "nul-in-field-name",
              json(s).replace("\"payload\":{}", "\"payload\":{\"k\\u0000\":1}"),
              "has a field name that contains the NUL");
      case 2 ->
          text(
              "nul-in-key",
              json(s.put("key", "a")).replace("\"key\":\"a\"", "\"key\":\"a\\u0000\""),
              "field 'key' contains the NUL");
      case 3 ->
          text(
              "lone-surrogate",
              json(s).replace("\"payload\":{}", "\"payload\":{\"s\":[\"\\ud83d\"]}"),
              "unpaired surrogate");
      case 4 ->
          text(
              "infinite-number",
              json(s)
                  .replace(
                      "\"payload\":{}",
                      "\"payload\":{\"n\":" + (r.nextBoolean() ? "" : "-") + "1e400}"),
              "number out of range");
      case 5 ->
          text(
              "long-number",
              json(s).replace("\"payload\":{}", "\"payload\":{\"n\":" + "9".repeat(2000) + "}"),
              "parser limit");
      case 6 ->
          text(
              "far-future",
              json(s.put("runAt", "+1000000000-01-01T00:00:00Z")),
              "must be between 1970");
      case 7 ->
          text(
              "year-10000", json(s.put("runAt", "+10000-01-01T00:00:00Z")), "must be between 1970");
      case 8 ->
          text("before-1970", json(s.put("runAt", "1900-01-01T00:00:00Z")), "must be between 1970");
      case 9 ->
          text(
              "deep",
              json(s).replace("\"payload\":{}", "\"payload\":" + "[".repeat(200) + "]".repeat(200)),
              "nested deeper");
      case 10 -> {
        p.put("big", "x".repeat(300_000));
        yield text("over-submit-limit", json(s), "over the limit of 262144");
      }
      case 11 -> {
        p.put("big", "y".repeat(100_000));
        if (r.nextBoolean()) {
          s.put("runAt", "2030-01-01T00:00:00Z"); // delayed: refused as well
        }
        yield text("work-item-too-large", json(s), "work item too large");
      }
      case 12 -> text("string-for-int", json(s.put("maxAttempts", "5")), "must be an integer");
      case 13 ->
          text(
              "negative", json(s.put("maxAttempts", -1 - r.nextInt(100))), "must be between 1 and");
      case 14 ->
          text(
              "huge-timeout",
              json(s).replace("\"type\"", "\"timeoutMs\":1e20,\"type\""),
              "must be an integer");
      case 15 -> {
        s.remove("type");
        UUID child = UUID.randomUUID();
        s.putArray("children")
            .add(FerryJson.object().put("id", child.toString()).put("type", "noop"))
            .add(FerryJson.object().put("id", child.toString()).put("type", "noop"));
        yield text("duplicate-child-ids", json(s), "names two jobs");
      }
      case 16 ->
          text(
              "duplicate-field",
              json(s).replace("\"type\":\"echo\"", "\"type\":\"echo\",\"type\":\"noop\""),
              "Duplicate field 'type'");
      case 17 -> {
        s.remove("type");
        s.putArray("children")
            .add(FerryJson.object().put("key", "a").put("type", "noop"))
            .add(FerryJson.object().put("key", "a").put("type", "noop"));
        yield text("duplicate-child-keys", json(s), "names two children");
      }
      case 18 -> {
        String j = json(s);
        yield text("truncated", j.substring(0, 1 + r.nextInt(j.length() - 2)), "not valid JSON");
      }
      case 19 -> {
        byte[] b = new byte[1 + r.nextInt(200)];
        r.nextBytes(b);
        b[0] = (byte) 0xff; // never valid JSON
        yield new Case("garbage-bytes", b, null, "not valid JSON");
      }
      case 20 -> {
        p.put("refuse", true);
        yield text("db-refuses-payload", json(s), "could not be stored");
      }
      case 21 -> {
        s.remove("type");
        s.putArray("children")
            .add(FerryJson.object().put("type", "noop"))
            .add(
                FerryJson.object()
                    .put("type", "noop")
                    .set("payload", FerryJson.object().put("refuse", 1)));
        yield text("db-refuses-child", json(s), "could not be stored");
      }
      case 22 -> text("unknown-field", json(s.put("maxAtempts", 3)), "unknown field 'maxAtempts'");
      default ->
          text(
              "bad-id",
              json(s).replace(id.toString(), "not-a-uuid\\r\\nforged"),
              "must be a UUID but was 'not-a-uuid\\r\\nforged'");
    };
  }

  private static Case text(String mutation, String json, String reason) {
    return new Case(mutation, json.getBytes(StandardCharsets.UTF_8), null, reason);
  }

  private static String json(JsonNode n) {
    return FerryJson.text(n);
  }

  private static byte[] bytes(JsonNode n) {
    return FerryJson.bytes(n);
  }

  // ---- helpers ----

  static void execute(FerryTestEnv env, String sql) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static long finishedMs(FerryTestEnv env, UUID id) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM ferry.jobs WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static String scrape(int port) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
