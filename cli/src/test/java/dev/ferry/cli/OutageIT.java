package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.KafkaBrokerProcess;
import dev.ferry.testkit.PostgresProcess;
import dev.ferry.testkit.TestDatabase;
import dev.ferry.worker.Worker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Outages of the database and of the Kafka broker while an orchestrator and a worker run: both stay
 * up, say over their health endpoints what is missing, and when it comes back every job submitted
 * before, during and after the outage succeeds.
 */
class OutageIT {
  private static final HttpClient http = HttpClient.newHttpClient();

  private PostgresProcess postgres;
  private KafkaBrokerProcess kafka;
  private Orchestrator orchestrator;
  private Worker worker;
  private KafkaProducer<byte[], byte[]> producer;

  @AfterEach
  void tearDown() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(2));
    }
    if (worker != null) {
      worker.close();
    }
    if (orchestrator != null) {
      orchestrator.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void databaseAndBrokerOutages_processesStayUpReportItAndLoseNothing() throws Exception {
    postgres = PostgresProcess.start();
    TestDatabase db = postgres.newDatabase("outage");
    kafka = KafkaBrokerProcess.create().start();
    FerryConfig config = config(db);
    orchestrator = Orchestrator.start(config);
    worker = Worker.start(config, List.of());
    int orch = orchestrator.healthPort();
    int work = worker.healthPort();
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("acks", "all");
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    String submit = Topics.withPrefix(config.topicPrefix()).submit();

    submit(submit, 20);
    awaitSucceeded(db, 20);
    awaitReady(orch, true);
    awaitReady(work, true);

    // PostgreSQL goes away.
    postgres.stop();
    awaitComponentDown(orch, "database");
    awaitComponentDown(work, "database");
    assertThat(get(orch, "/health/live").statusCode()).isEqualTo(200);
    assertThat(get(work, "/health/live").statusCode()).isEqualTo(200);
    submit(submit, 20); // accepted by Kafka, waiting for the database
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> body(orch).path("lag").path("submit").asLong() > 0);
    postgres.restart();
    awaitSucceeded(db, 40);
    awaitReady(orch, true);
    awaitReady(work, true);
    // The loops' failures were counted, not only logged (the dispatcher's listening connection
    // is cut when the server stops).
    assertThat(
            MetricsIT.value(
                get(orch, "/metrics").body(),
                "ferry_loop_errors_total",
                "loop=\"ferry-dispatcher\""))
        .isPositive();

    // The Kafka broker dies (SIGKILL) and comes back on the same data.
    kafka.kill();
    awaitComponentDown(orch, "kafka");
    awaitComponentDown(work, "kafka");
    assertThat(get(orch, "/health/live").statusCode()).isEqualTo(200);
    assertThat(get(work, "/health/live").statusCode()).isEqualTo(200);
    kafka.start();
    awaitReady(orch, true);
    awaitReady(work, true);
    submit(submit, 20);
    awaitSucceeded(db, 60);
    assertThat(count(db, "SELECT count(*) FROM ferry.jobs")).isEqualTo(60);
    assertThat(count(db, "SELECT count(*) FROM ferry.job_attempts WHERE outcome = 'SUCCEEDED'"))
        .isEqualTo(60);
  }

  /**
   * A database outage longer than {@code rescue.after.ms} leaves every worker's heartbeat stale at
   * once although the workers lived on: the rescuer must not take their attempts back.
   */
  @Test
  void databaseOutageLongerThanRescueAfter_takesNoLiveAttemptBack() throws Exception {
    postgres = PostgresProcess.start();
    TestDatabase db = postgres.newDatabase("outage_rescue");
    kafka = KafkaBrokerProcess.create().start();
    FerryConfig config = config(db).with(Setting.RESCUE_AFTER_MS, "2000");
    orchestrator = Orchestrator.start(config);
    worker = Worker.start(config, List.of());
    int orch = orchestrator.healthPort();
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("acks", "all");
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    String submit = Topics.withPrefix(config.topicPrefix()).submit();
    UUID id = UUID.randomUUID();
    producer
        .send(
            new ProducerRecord<>(
                submit,
                ("{\"id\":\""
                        + id
                        + "\",\"type\":\"sleep\","
                        + "\"payload\":{\"ms\":20000},\"timeoutMs\":60000}")
                    .getBytes(StandardCharsets.UTF_8)))
        .get();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'RUNNING'") == 1);

    postgres.stop();
    awaitComponentDown(orch, "database");
    // The outage lasts well over rescue.after.ms (2 s): every heartbeat is stale when it ends.
    long down = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> System.nanoTime() - down > Duration.ofSeconds(5).toNanos());
    postgres.restart();

    awaitSucceeded(db, 1);
    assertThat(count(db, "SELECT count(*) FROM ferry.job_attempts WHERE outcome = 'WORKER_LOST'"))
        .isZero();
    assertThat(count(db, "SELECT attempts FROM ferry.jobs")).isEqualTo(1);
  }

  /** Ferry's configuration on this test's own broker and database. */
  private FerryConfig config(TestDatabase db) {
    return FerryConfig.defaults()
        .with(Setting.KAFKA_BOOTSTRAP_SERVERS, kafka.bootstrapServers())
        .with(Setting.DB_URL, db.url())
        .with(Setting.DB_USER, db.user())
        .with(Setting.DB_PASSWORD, db.password())
        .with(Setting.TOPIC_PARTITIONS, "4")
        .with(Setting.DB_POOL_SIZE, "4")
        .with(Setting.HEALTH_PORT, "0")
        .withKafka("session.timeout.ms", "6000");
  }

  private void submit(String topic, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      String json = "{\"id\":\"" + UUID.randomUUID() + "\",\"type\":\"noop\"}";
      producer.send(new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8))).get();
    }
  }

  private static void awaitSucceeded(TestDatabase db, long n) {
    await()
        .atMost(Duration.ofSeconds(120))
        .ignoreExceptions()
        .until(() -> count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'") == n);
  }

  private static void awaitReady(int port, boolean ready) {
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(port, "/health/ready").statusCode() == (ready ? 200 : 503));
  }

  private static void awaitComponentDown(int port, String component) {
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () -> {
              HttpResponse<String> r = get(port, "/health/ready");
              JsonNode b = FerryJson.parse(r.body());
              return r.statusCode() == 503
                  && !b.path("components").path(component).path("up").asBoolean(true)
                  && !b.path("components").path(component).path("error").asText().isEmpty();
            });
  }

  private static JsonNode body(int port) throws Exception {
    return FerryJson.parse(get(port, "/health").body());
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static long count(TestDatabase db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
