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
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Retry precision: a steady rate of {@code fail-once} jobs, a share of which fail their first
 * attempt with a fixed backoff; measures how late each retry starts after its {@code next_run_at}
 * (the second attempt's {@code started_at} minus {@code next_run_at}).
 */
public final class RetryLagBench {
  /** Parameters of a run. */
  public record Options(
      int ratePerSecond, int seconds, int warmupSeconds, double failShare, int backoffMs) {}

  /** Figures of a run. */
  public record Result(
      int jobs, int retried, double p50Ms, double p99Ms, double maxMs, String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=retry-lag jobs=%d retried=%d lag_p50_ms=%.1f lag_p99_ms=%.1f lag_max_ms=%.1f"
              + " db=%s",
          jobs,
          retried,
          p50Ms,
          p99Ms,
          maxMs,
          durability);
    }
  }

  private RetryLagBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.printf("Starting embedded Kafka, PostgreSQL, 1 orchestrator, 1 worker…%n");
    try (LocalCluster cluster =
        BenchInfra.cluster(
            1, c -> c.with(Setting.WORKER_CONCURRENCY, "256"), List.of(new FailOnceHandler()))) {
      FerryConfig config = cluster.config();
      String topic = Topics.withPrefix(config.topicPrefix()).submit();
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("acks", "all");
      p.put("linger.ms", "2");
      int total = o.ratePerSecond() * o.seconds();
      SplittableRandom random = new SplittableRandom(17);
      try (KafkaProducer<byte[], byte[]> producer =
              new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
          Connection db = cluster.connect()) {
        out.printf(
            "Submitting %d jobs/s for %d s (%.0f %% fail once, retry after %d ms)…%n",
            o.ratePerSecond(), o.seconds(), o.failShare() * 100, o.backoffMs());
        long start = System.nanoTime();
        long tickNanos = TimeUnit.MILLISECONDS.toNanos(10);
        int warm = o.ratePerSecond() * o.warmupSeconds();
        total += warm;
        out.printf("(the first %d s are warm-up, not measured)%n", o.warmupSeconds());
        int sent = 0;
        Sends sends = new Sends();
        while (sent < total) {
          long due = (long) ((System.nanoTime() - start) / 1e9 * o.ratePerSecond());
          while (sent < Math.min(due, total)) {
            boolean fail = random.nextDouble() < o.failShare();
            String json =
                "{\"id\":\""
                    + UUID.randomUUID()
                    + "\",\"type\":\"fail-once\","
                    + "\"payload\":{\"fail\":"
                    + fail
                    + ",\"warm\":"
                    + (sent < warm)
                    + "},\"backoff\":{\"strategy\":\"fixed\","
                    + "\"initialMs\":"
                    + o.backoffMs()
                    + ",\"maxMs\":"
                    + o.backoffMs()
                    + ",\"jitter\":0}}";
            sends.send(
                producer, new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
            sent++;
          }
          if (sent % (o.ratePerSecond() * 5) == 0 && sent > 0) {
            out.printf("  %,d submitted%n", sent);
          }
          // Pacing the offered load: this is the rate generator, not synchronisation.
          TimeUnit.NANOSECONDS.sleep(tickNanos);
        }
        sends.flush(producer);
        out.println("Waiting for every job to succeed…");
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'") < total) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("jobs did not finish in 5 minutes");
          }
          TimeUnit.MILLISECONDS.sleep(200);
        }
        try (PreparedStatement ps =
                db.prepareStatement(
                    """
            SELECT count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag)
            FROM (SELECT extract(epoch FROM a.started_at - j.next_run_at) * 1000 AS lag
                  FROM ferry.jobs j JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 2
                  WHERE NOT (j.payload->>'warm')::boolean) l
            """);
            ResultSet rs = ps.executeQuery()) {
          rs.next();
          Result r =
              new Result(
                  total - warm,
                  rs.getInt(1),
                  rs.getDouble(2),
                  rs.getDouble(3),
                  rs.getDouble(4),
                  BenchInfra.describe(db));
          try (var st = db.createStatement();
              ResultSet slow =
                  st.executeQuery(
                      """
                  SELECT round(extract(epoch FROM j.next_run_at - (SELECT min(created_at) FROM ferry.jobs))) AS s,
                         count(*) FILTER (WHERE a.started_at - j.next_run_at > interval '100 ms') AS late,
                         count(*) AS retries,
                         round(max(extract(epoch FROM a.started_at - j.next_run_at) * 1000)) AS max_ms,
                         round(max(extract(epoch FROM j.next_run_at - p.finished_at) * 1000)) AS sched_ms
                  FROM ferry.jobs j JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 2
                  JOIN ferry.job_attempts p ON p.job_id = j.id AND p.attempt = 1
                  WHERE NOT (j.payload->>'warm')::boolean
                  GROUP BY 1 ORDER BY 1
                  """)) {
            while (slow.next()) {
              out.printf(
                  "  t=%3ds retries=%4d late=%4d max_lag_ms=%6d max_sched_ms=%6d%n",
                  slow.getInt(1), slow.getInt(3), slow.getInt(2), slow.getInt(4), slow.getInt(5));
            }
          }
          return r;
        }
      }
    }
  }

  private static long count(Connection db, String sql) throws Exception {
    try (var st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
