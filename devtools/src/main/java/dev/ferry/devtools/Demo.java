package dev.ferry.devtools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Topics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What every part of the demo shares: the running cluster's configuration, a database connection,
 * the submissions producer and the time limit. Submissions are sent with a callback; {@link
 * #flush()} fails if Kafka refused any of them (nothing is fire-and-forget, even here).
 */
final class Demo implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final FerryConfig config;
  final Connection db;
  final int timeoutS;
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final AtomicReference<Exception> refused = new AtomicReference<>();

  Demo(FerryConfig config, Connection db, int timeoutS) {
    this.config = config;
    this.db = db;
    this.timeoutS = timeoutS;
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    p.put("acks", "all");
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.topic = Topics.withPrefix(config.topicPrefix()).submit();
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  /** Sends a submission; a refusal is remembered and reported by {@link #flush()}. */
  void submit(JsonNode submission) {
    submitRaw(submission.toString());
  }

  /** Sends any text to the submissions topic (the demo's invalid records). */
  void submitRaw(String text) {
    // Not fire-and-forget: a refusal reaches the callback, and flush() reports it.
    var unused =
        producer.send(
            new ProducerRecord<>(topic, text.getBytes(StandardCharsets.UTF_8)),
            (metadata, e) -> {
              if (e != null) {
                refused.compareAndSet(null, e);
              }
            });
  }

  /** Sends one submission and waits until Kafka has it. */
  void submitAndWait(JsonNode submission) throws InterruptedException, ExecutionException {
    producer
        .send(new ProducerRecord<>(topic, submission.toString().getBytes(StandardCharsets.UTF_8)))
        .get();
  }

  /**
   * Waits until every submission sent so far is acknowledged.
   *
   * @throws IllegalStateException if Kafka refused one
   */
  void flush() {
    producer.flush();
    Exception e = refused.get();
    if (e != null) {
      throw new IllegalStateException("Kafka refused a demo submission: " + e, e);
    }
  }

  /** The single number a query returns. */
  long count(String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  long deadlineNanos() {
    return System.nanoTime() + timeoutS * 1_000_000_000L;
  }

  static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  @Override
  public void close() {
    producer.close();
  }
}
