package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.testkit.LocalCluster;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** One parent × N {@code noop} children: time from submission to the parent's SUCCEEDED. */
public final class FanoutBench {
  /** Figures of a run. */
  public record Result(
      int children, double seconds, double childrenPerSecond, int aggregated, String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=fanout children=%d seconds=%.2f children_per_s=%.0f aggregated=%d db=%s",
          children,
          seconds,
          childrenPerSecond,
          aggregated,
          durability);
    }
  }

  private FanoutBench() {}

  public static Result run(int children, int concurrency, PrintStream out) throws Exception {
    int bytes = 32 * children + 4096;
    out.printf("Starting embedded Kafka, PostgreSQL, 1 orchestrator, 1 worker…%n");
    try (LocalCluster cluster =
        BenchInfra.cluster(
            1,
            c ->
                c.with(Setting.WORKER_CONCURRENCY, String.valueOf(concurrency))
                    .with(Setting.SUBMIT_MAX_BYTES, String.valueOf(Math.max(1 << 20, bytes))),
            List.of())) {
      FerryConfig config = cluster.config();
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("max.request.size", String.valueOf(Math.max(1 << 20, bytes + 4096)));
      StringBuilder json = new StringBuilder(bytes);
      UUID parent = UUID.randomUUID();
      json.append("{\"id\":\"")
          .append(parent)
          .append("\",\"failurePolicy\":\"collect\",\"children\":[");
      for (int i = 0; i < children; i++) {
        json.append(i > 0 ? "," : "").append("{\"type\":\"noop\"}");
      }
      json.append("]}");
      out.printf("Submitting one parent with %,d children (%,d bytes)…%n", children, json.length());
      long t0 = System.nanoTime();
      try (KafkaProducer<byte[], byte[]> producer =
              new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
          Connection db = cluster.connect()) {
        producer
            .send(
                new ProducerRecord<>(
                    Topics.withPrefix(config.topicPrefix()).submit(),
                    json.toString().getBytes(StandardCharsets.UTF_8)))
            .get();
        long lastPrint = 0;
        while (true) {
          try (PreparedStatement ps =
              db.prepareStatement(
                  "SELECT status, children_done, (result->>'succeeded')::int FROM ferry.jobs WHERE id = ?")) {
            ps.setObject(1, parent);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                if (rs.getString(1).equals("SUCCEEDED")) {
                  double s = (System.nanoTime() - t0) / 1e9;
                  printTimeline(db, parent, out);
                  return new Result(
                      children, s, children / s, rs.getInt(3), BenchInfra.describe(db));
                }
                if (System.nanoTime() - lastPrint > 2_000_000_000L) {
                  out.printf("  %,d / %,d children done%n", rs.getInt(2), children);
                  lastPrint = System.nanoTime();
                }
              }
            }
          }
          // Progress polling at a human pace.
          TimeUnit.MILLISECONDS.sleep(100);
        }
      }
    }
  }

  /** Where the time went: children stored, first and last started, last finished. */
  private static void printTimeline(Connection db, UUID parent, PrintStream out)
      throws java.sql.SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            """
        SELECT extract(epoch FROM max(c.created_at) - p.created_at),
               extract(epoch FROM min(c.started_at) - p.created_at),
               extract(epoch FROM max(c.started_at) - p.created_at),
               extract(epoch FROM max(c.finished_at) - p.created_at),
               extract(epoch FROM p.finished_at - p.created_at)
        FROM ferry.jobs p JOIN ferry.jobs c ON c.parent_id = p.id WHERE p.id = ?
        GROUP BY p.created_at, p.finished_at""")) {
      ps.setObject(1, parent);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          out.printf(
              Locale.ROOT,
              "  after the parent was stored: children stored %.1f s,"
                  + " first child started %.1f s, last started %.1f s, last finished %.1f s,"
                  + " parent finished %.1f s%n",
              rs.getDouble(1),
              rs.getDouble(2),
              rs.getDouble(3),
              rs.getDouble(4),
              rs.getDouble(5));
        }
      }
    }
  }
}
