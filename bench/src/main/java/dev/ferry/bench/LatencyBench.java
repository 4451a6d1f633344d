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
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Latency under a steady load: {@code noop} jobs at a fixed rate (500/s by default) for a fixed
 * time after a warm-up; measures submit → start (the attempt's {@code started_at}) and submit →
 * done ({@code finished_at}) per job, with the submit time carried in the payload.
 */
public final class LatencyBench {
  /** Parameters of a run. */
  public record Options(int ratePerSecond, int seconds, int warmupSeconds) {}

  /** Figures of a run. */
  public record Result(
      int jobs,
      double startP50,
      double startP99,
      double startMax,
      double doneP50,
      double doneP99,
      double doneMax,
      String durability,
      String cpu) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=latency jobs=%d start_p50_ms=%.1f start_p99_ms=%.1f start_max_ms=%.1f"
              + " done_p50_ms=%.1f done_p99_ms=%.1f done_max_ms=%.1f %s db=%s",
          jobs,
          startP50,
          startP99,
          startMax,
          doneP50,
          doneP99,
          doneMax,
          cpu,
          durability);
    }
  }

  private LatencyBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("Starting embedded Kafka, PostgreSQL, 1 orchestrator, 1 worker…");
    try (LocalCluster cluster =
        BenchInfra.cluster(1, c -> c.with(Setting.WORKER_CONCURRENCY, "256"), List.of())) {
      FerryConfig config = cluster.config();
      String topic = Topics.withPrefix(config.topicPrefix()).submit();
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("acks", "all");
      p.put("linger.ms", "0");
      int warm = o.ratePerSecond() * o.warmupSeconds();
      int total = warm + o.ratePerSecond() * o.seconds();
      try (KafkaProducer<byte[], byte[]> producer =
              new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
          Connection db = cluster.connect()) {
        out.printf(
            "Submitting %d noop jobs/s for %d s after a %d s warm-up…%n",
            o.ratePerSecond(), o.seconds(), o.warmupSeconds());
        long start = System.nanoTime();
        CpuMeter cpu0 = null;
        String cpu = null;
        int sent = 0;
        Sends sends = new Sends();
        while (sent < total) {
          long due = (long) ((System.nanoTime() - start) / 1e9 * o.ratePerSecond());
          if (cpu0 == null && sent >= warm) {
            cpu0 = CpuMeter.read();
          }
          while (sent < Math.min(due, total)) {
            String json =
                "{\"id\":\""
                    + UUID.randomUUID()
                    + "\",\"type\":\"noop\",\"payload\":"
                    + "{\"t\":"
                    + System.currentTimeMillis()
                    + ",\"warm\":"
                    + (sent < warm)
                    + "}}";
            sends.send(
                producer, new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
            sent++;
            if (sent % (o.ratePerSecond() * 5) == 0) {
              out.printf("  %,d submitted%n", sent);
            }
          }
          // Pacing the offered load: this is the rate generator, not synchronisation.
          TimeUnit.MILLISECONDS.sleep(1);
        }
        sends.flush(producer);
        cpu = CpuMeter.read().since(cpu0, total - warm); // the measured phase, at the steady rate
        out.println("Waiting for every job to succeed…");
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (count(db) < total) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("jobs did not finish in 5 minutes");
          }
          TimeUnit.MILLISECONDS.sleep(200); // progress polling at a human pace
        }
        printBreakdown(config, db, out);
        try (PreparedStatement ps =
                db.prepareStatement(
                    """
            WITH l AS (
              SELECT extract(epoch FROM started_at) * 1000 - (payload->>'t')::bigint AS s,
                     extract(epoch FROM finished_at) * 1000 - (payload->>'t')::bigint AS d
              FROM ferry.jobs WHERE NOT (payload->>'warm')::boolean)
            SELECT count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY s), max(s),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY d),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d),
                   current_setting('fsync'), current_setting('synchronous_commit')
            FROM l""");
            ResultSet rs = ps.executeQuery()) {
          rs.next();
          return new Result(
              rs.getInt(1),
              rs.getDouble(2),
              rs.getDouble(3),
              rs.getDouble(4),
              rs.getDouble(5),
              rs.getDouble(6),
              rs.getDouble(7),
              "fsync=" + rs.getString(8) + ",synchronous_commit=" + rs.getString(9),
              cpu);
        }
      }
    }
  }

  /**
   * Where the submit → start time goes, per hop, from timestamps already on the way: the
   * submission's time (payload), the intake transaction (the row's {@code created_at}), the work
   * record's create time (stamped by the dispatcher's producer) and the attempt's start.
   */
  private static void printBreakdown(FerryConfig config, Connection db, PrintStream out)
      throws Exception {
    String work = Topics.withPrefix(config.topicPrefix()).work();
    List<String> ids = new java.util.ArrayList<>();
    List<java.sql.Timestamp> times = new java.util.ArrayList<>();
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    try (var consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            p,
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<org.apache.kafka.common.TopicPartition> parts =
          consumer.partitionsFor(work).stream()
              .map(i -> new org.apache.kafka.common.TopicPartition(work, i.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      var end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          ids.add(r.key());
          times.add(new java.sql.Timestamp(r.timestamp()));
        }
      }
    }
    try (PreparedStatement ps =
        db.prepareStatement(
            """
        WITH w AS (SELECT id, min(ts) AS ts FROM unnest(?::uuid[], ?::timestamptz[]) AS u(id, ts)
                   GROUP BY id),
        h AS (
          SELECT extract(epoch FROM j.created_at) * 1000 - (j.payload->>'t')::bigint AS intake,
                 extract(epoch FROM w.ts - j.created_at) * 1000 AS dispatch,
                 extract(epoch FROM a.started_at - w.ts) * 1000 AS start
          FROM ferry.jobs j JOIN w ON w.id = j.id
          JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 1
          WHERE NOT (j.payload->>'warm')::boolean)
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY intake),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY intake),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY dispatch),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY dispatch),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY start),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY start)
        FROM h""")) {
      ps.setArray(1, db.createArrayOf("uuid", ids.stream().map(UUID::fromString).toArray()));
      ps.setArray(2, db.createArrayOf("timestamptz", times.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        out.printf(
            Locale.ROOT,
            "  hops p50/p99 ms: submit→intake tx %.1f/%.1f,"
                + " intake tx→work record %.1f/%.1f, work record→start %.1f/%.1f%n",
            rs.getDouble(1),
            rs.getDouble(2),
            rs.getDouble(3),
            rs.getDouble(4),
            rs.getDouble(5),
            rs.getDouble(6));
      }
    }
  }

  private static long count(Connection db) throws Exception {
    try (var st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
