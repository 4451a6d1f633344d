package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Submits jobs as a client would (a producer with Kafka's usual batching, {@code acks=all}) and
 * waits for them in the database, printing progress.
 */
final class BenchJobs implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;

  BenchJobs(FerryConfig config) {
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    p.put("acks", "all");
    p.put("linger.ms", "5");
    p.put("batch.size", "131072");
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.topic = Topics.withPrefix(config.topicPrefix()).submit();
  }

  /** The settings a worker process needs to join this cluster. */
  static Map<Setting, String> workerSettings(FerryConfig config, int concurrency) {
    Map<Setting, String> s = new EnumMap<>(Setting.class);
    for (Setting k :
        new Setting[] {
          Setting.KAFKA_BOOTSTRAP_SERVERS,
          Setting.DB_URL,
          Setting.DB_USER,
          Setting.DB_PASSWORD,
          Setting.TOPIC_PREFIX
        }) {
      s.put(k, config.get(k));
    }
    s.put(Setting.WORKER_CONCURRENCY, String.valueOf(concurrency));
    s.put(Setting.WORKER_ID, "bench-worker");
    s.put(Setting.HEALTH_PORT, "0");
    return s;
  }

  /**
   * Submits {@code n} jobs of a type; each payload carries the submit time {@code t} (epoch ms) and
   * {@code extraPayload} (JSON members without braces, may be empty).
   */
  void submit(int n, String type, String extraPayload) {
    submit(n, type, extraPayload, "");
  }

  /**
   * As {@link #submit(int, String, String)}, with {@code extraFields} (submission members without
   * braces, e.g. a {@code runAt}; may be empty).
   */
  void submit(int n, String type, String extraPayload, String extraFields) {
    String extra = extraPayload.isEmpty() ? "" : "," + extraPayload;
    String fields = extraFields.isEmpty() ? "" : "," + extraFields;
    Sends sends = new Sends();
    for (int i = 0; i < n; i++) {
      String json =
          "{\"id\":\""
              + UUID.randomUUID()
              + "\",\"type\":\""
              + type
              + "\",\"payload\":{\"t\":"
              + System.currentTimeMillis()
              + extra
              + "}"
              + fields
              + "}";
      sends.send(producer, new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
    }
    sends.flush(producer);
  }

  /** Waits until {@code n} jobs have the status, printing progress every 2 s. */
  void awaitStatus(Connection db, String status, int n, Duration timeout, PrintStream out)
      throws SQLException, InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastPrint = System.nanoTime();
    while (true) {
      long done;
      long all;
      // Counts by the status index (an index-only scan), not a scan of a million rows five
      // times a second.
      try (var ps =
          db.prepareStatement(
              "SELECT (SELECT count(*) FROM ferry.jobs WHERE status = ?),"
                  + " (SELECT count(*) FROM ferry.jobs WHERE status IS NOT NULL)")) {
        ps.setString(1, status);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          done = rs.getLong(1);
          all = rs.getLong(2);
        }
      }
      if (done >= n) {
        return;
      }
      if (System.nanoTime() - lastPrint > 2_000_000_000L) {
        out.printf("  %,d / %,d %s (%,d accepted)%n", done, n, status, all);
        lastPrint = System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(
            "only " + done + " of " + n + " jobs " + status + " in " + timeout);
      }
      // Progress polling of the database at a human pace.
      Thread.sleep(all > 100_000 ? 1_000 : 200);
    }
  }

  void awaitSucceeded(Connection db, int n, Duration timeout, PrintStream out)
      throws SQLException, InterruptedException, TimeoutException {
    awaitStatus(db, "SUCCEEDED", n, timeout, out);
  }

  /** Forgets finished warm-up jobs so that only the measured ones are counted. */
  void truncate(Connection db) throws SQLException {
    try (var st = db.createStatement()) {
      st.execute("TRUNCATE ferry.jobs, ferry.job_attempts");
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
