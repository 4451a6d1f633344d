package dev.ferry.cli;

import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Small helpers for end-to-end tests: start parts, submit raw JSON, read job rows. */
final class Harness {
  private Harness() {}

  /** What a CLI run printed and returned. */
  record Run(int exit, String out, String err) {}

  /** Runs the ferry command line in-process, capturing its output. */
  static synchronized Run cli(String... args) {
    java.io.PrintStream oldOut = System.out;
    java.io.PrintStream oldErr = System.err;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    try {
      System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new Run(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static Orchestrator orchestrator(FerryTestEnv env, FerryConfig config) {
    return env.closeAfter(Orchestrator.start(config));
  }

  static Worker worker(FerryTestEnv env, FerryConfig config, JobHandler... handlers) {
    return env.closeAfter(Worker.start(config, List.of(handlers)));
  }

  /** Sends raw bytes to the submit topic with a plain producer, like any Kafka client. */
  static void submitRaw(FerryTestEnv env, FerryConfig config, Integer partition, String json)
      throws Exception {
    KafkaProducer<byte[], byte[]> p = env.rawProducer();
    p.send(
            new ProducerRecord<>(
                Topics.withPrefix(config.topicPrefix()).submit(),
                partition,
                null,
                json.getBytes(StandardCharsets.UTF_8)))
        .get();
  }

  static Map<String, Object> job(DataSource ds, UUID id) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT *, result::text AS result_text, payload::text AS payload_text"
                    + " FROM ferry.jobs WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Map<String, Object> row = new HashMap<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
        }
        return row;
      }
    }
  }

  static String status(DataSource ds, UUID id) throws SQLException {
    Map<String, Object> j = job(ds, id);
    return j == null ? null : (String) j.get("status");
  }

  static void awaitStatus(DataSource ds, UUID id, String status) {
    await().atMost(Duration.ofSeconds(60)).until(() -> status.equals(status(ds, id)));
  }

  static long count(DataSource ds, String sql, Object... args) throws SQLException {
    try (Connection c = ds.getConnection();
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

  /** Counts with one uuid[] parameter (the ids), e.g. {@code WHERE id = ANY(?)}. */
  static long countIds(DataSource ds, String sql, java.util.Collection<UUID> ids)
      throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Reads every record of a topic from the beginning until {@code n} arrived (or 60 s). */
  static List<ConsumerRecord<byte[], byte[]>> readTopic(FerryTestEnv env, String topic, int n) {
    Properties p = new Properties();
    p.put("bootstrap.servers", env.bootstrapServers());
    p.put("group.id", "test-reader-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (out.size() < n && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * Starts {@code ferry worker} as a separate JVM on the test's class path (so test handlers
   * registered with ServiceLoader are there too), logging to a temporary file. Killed with the
   * environment.
   */
  static Process workerProcess(FerryTestEnv env, FerryConfig config, String id)
      throws java.io.IOException {
    return ferryProcess(
        env,
        config,
        Map.of(Setting.WORKER_ID.env(), id),
        Files.createTempFile("ferry-worker-" + id, ".log"),
        "worker");
  }

  /**
   * Starts {@code ferry <args>} as a separate JVM with the environment's Kafka, database and topics
   * in its environment (plus {@code extraEnv}), output and errors to {@code log}.
   */
  static Process ferryProcess(
      FerryTestEnv env, FerryConfig config, Map<String, String> extraEnv, Path log, String... args)
      throws java.io.IOException {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                javaBin,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> e = pb.environment();
    e.put(Setting.KAFKA_BOOTSTRAP_SERVERS.env(), env.bootstrapServers());
    e.put(Setting.DB_URL.env(), env.database().url());
    e.put(Setting.DB_USER.env(), env.database().user());
    e.put(Setting.DB_PASSWORD.env(), env.database().password());
    e.put(Setting.TOPIC_PREFIX.env(), config.topicPrefix());
    e.put(Setting.TOPIC_PARTITIONS.env(), config.get(Setting.TOPIC_PARTITIONS));
    e.put(Setting.HEALTH_PORT.env(), "0");
    e.put("FERRY_KAFKA_SESSION_TIMEOUT_MS", "6000");
    e.put("FERRY_KAFKA_HEARTBEAT_INTERVAL_MS", "1000");
    e.putAll(extraEnv);
    if (extraEnv.containsKey(Setting.DB_PASSWORD_FILE.env())) {
      e.remove(Setting.DB_PASSWORD.env());
    }
    Process p = pb.start();
    env.closeAfter(p::destroyForcibly);
    return p;
  }
}
