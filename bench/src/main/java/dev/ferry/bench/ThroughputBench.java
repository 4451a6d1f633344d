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
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * End-to-end throughput: N {@code noop} jobs produced as raw JSON to {@code ferry.submit} until all
 * are {@code SUCCEEDED}; reports jobs/s and submit→done latency p50/p99 (submit time is carried in
 * the payload, done time is {@code finished_at}).
 */
public final class ThroughputBench {
  /** Parameters of a run. */
  public record Options(
      int jobs, int workers, int concurrency, int partitions, Duration timeout, int warmupJobs) {}

  /** Figures of a run. */
  public record Result(
      int jobs,
      double seconds,
      double jobsPerSecond,
      double p50Ms,
      double p99Ms,
      double maxMs,
      String durability,
      String cpu) {
    public String line() {
      return String.format(
          java.util.Locale.ROOT,
          "RESULT scenario=throughput jobs=%d seconds=%.2f jobs_per_s=%.0f p50_ms=%.0f p99_ms=%.0f max_ms=%.0f %s db=%s",
          jobs,
          seconds,
          jobsPerSecond,
          p50Ms,
          p99Ms,
          maxMs,
          cpu,
          durability);
    }
  }

  private ThroughputBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.printf("Starting embedded Kafka, PostgreSQL, 1 orchestrator, %d worker(s)…%n", o.workers());
    try (LocalCluster cluster =
        BenchInfra.cluster(
            o.workers(),
            c ->
                c.with(Setting.WORKER_CONCURRENCY, String.valueOf(o.concurrency()))
                    .with(Setting.TOPIC_PARTITIONS, String.valueOf(o.partitions())),
            List.of())) {
      FerryConfig config = cluster.config();
      Topics topics = Topics.withPrefix(config.topicPrefix());
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("acks", "all");
      p.put("linger.ms", "5");
      p.put("batch.size", "131072");
      p.put("compression.type", "none");
      try (KafkaProducer<byte[], byte[]> producer =
              new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
          Connection db = cluster.connect()) {
        out.printf("Warming up with %,d jobs…%n", o.warmupJobs());
        // In rounds of at most 20,000, as the floor does, so both warm the same way.
        for (int left = o.warmupJobs(); left > 0; left -= 20_000) {
          int k = Math.min(20_000, left);
          submit(producer, topics, k);
          await(db, k, o.timeout(), out);
          try (var st = db.createStatement()) {
            st.execute("TRUNCATE ferry.jobs, ferry.job_attempts");
          }
        }
        out.printf("Submitting %,d noop jobs…%n", o.jobs());
        long t0 = System.currentTimeMillis();
        CpuMeter cpu0 = CpuMeter.read();
        submit(producer, topics, o.jobs());
        out.printf(
            "Submitted in %.1f s; waiting for all to succeed…%n",
            (System.currentTimeMillis() - t0) / 1000.0);
        await(db, o.jobs(), o.timeout(), out);
        String cpu = CpuMeter.read().since(cpu0, o.jobs());
        try (PreparedStatement ps =
                db.prepareStatement(
                    """
            WITH l AS (
              -- done = when the orchestrator recorded SUCCEEDED (updated_at, the applier's
              -- transaction), as the floor's finished_at
              SELECT extract(epoch FROM updated_at) * 1000 - (payload->>'t')::bigint AS ms,
                     updated_at AS finished_at, (payload->>'t')::bigint AS t FROM ferry.jobs)
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms),
                   extract(epoch FROM max(finished_at)) * 1000 - min(t)
            FROM l
            """);
            ResultSet rs = ps.executeQuery()) {
          rs.next();
          double seconds = rs.getDouble(4) / 1000.0;
          printTimeline(db, out);
          String durability;
          try (var st = db.createStatement()) {
            durability = FloorBench.durability(st);
          }
          return new Result(
              o.jobs(),
              seconds,
              o.jobs() / seconds,
              rs.getDouble(1),
              rs.getDouble(2),
              rs.getDouble(3),
              durability,
              cpu);
        }
      }
    }
  }

  private static void submit(KafkaProducer<byte[], byte[]> producer, Topics topics, int n)
      throws Exception {
    Sends sends = new Sends();
    for (int i = 0; i < n; i++) {
      String json =
          "{\"id\":\""
              + UUID.randomUUID()
              + "\",\"type\":\"noop\",\"payload\":{\"t\":"
              + System.currentTimeMillis()
              + "}}";
      sends.send(
          producer, new ProducerRecord<>(topics.submit(), json.getBytes(StandardCharsets.UTF_8)));
    }
    sends.flush(producer);
  }

  private static void await(Connection db, int n, Duration timeout, PrintStream out)
      throws SQLException, InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastPrint = 0;
    while (true) {
      int done;
      try (var st = db.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT count(*) FILTER (WHERE status = 'SUCCEEDED'), count(*) FROM ferry.jobs")) {
        rs.next();
        done = rs.getInt(1);
        if (System.nanoTime() - lastPrint > 2_000_000_000L) {
          out.printf("  %,d / %,d succeeded (%,d accepted)%n", done, n, rs.getInt(2));
          lastPrint = System.nanoTime();
        }
      }
      if (done >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("only " + done + " of " + n + " jobs succeeded in " + timeout);
      }
      // Progress polling of the database at a human pace.
      Thread.sleep(500); // its count query costs the measured database CPU
    }
  }

  /** Where the time went: when the last job was stored, last finished by a worker, applied. */
  static void printTimeline(Connection db, PrintStream out) throws SQLException {
    try (var st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
        SELECT extract(epoch FROM max(created_at)) * 1000 - min((payload->>'t')::bigint),
               extract(epoch FROM max(finished_at)) * 1000 - min((payload->>'t')::bigint),
               extract(epoch FROM max(updated_at)) * 1000 - min((payload->>'t')::bigint)
        FROM ferry.jobs""")) {
      rs.next();
      out.printf(
          java.util.Locale.ROOT,
          "  from the first submission: last job stored after %.1f s,"
              + " last finished by a worker %.1f s, last outcome applied %.1f s%n",
          rs.getDouble(1) / 1000,
          rs.getDouble(2) / 1000,
          rs.getDouble(3) / 1000);
    }
  }
}
