package dev.ferry.devtools;

import dev.ferry.bench.BenchInfra;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.LocalCluster;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Flow control measured (issue 18), on one embedded cluster with one worker of {@code concurrency}
 * slots:
 *
 * <ol>
 *   <li><b>urgent</b>: with {@code backlog} ordinary {@code sleep} jobs queued and every slot busy,
 *       {@code samples} urgent jobs (priority 1) submitted one at a time; the time from sending
 *       each to its start ({@code jobs.started_at}), p50 and p99. Target: ≤ 1 s.
 *   <li><b>keys</b>: {@code keys} keys × limit 1, {@code perKey} {@code noop} jobs each, against
 *       the same number of unconstrained {@code noop} jobs: jobs/s from the first created to the
 *       last finished, and the ratio.
 *   <li><b>rate</b>: a dependency limited to {@code rate}/1s and {@code rateJobs} {@code noop} jobs
 *       of it: the achieved starts per second and the most starts in any 1 s window (of {@code
 *       job_attempts.started_at}, taken by the worker right after its start permit).
 * </ol>
 */
public final class FlowBench {
  /** Parameters of a run. */
  public record Options(
      int concurrency,
      int backlog,
      int samples,
      int keys,
      int perKey,
      int rate,
      int rateJobs,
      java.time.Duration timeout) {}

  private FlowBench() {}

  /** Runs the three parts and returns the summary line (each part prints its own RESULT). */
  public static String run(Options o, PrintStream out) throws Exception {
    out.printf("Starting embedded Kafka, PostgreSQL, 1 orchestrator, 1 worker…%n");
    try (LocalCluster cluster =
            BenchInfra.cluster(
                1,
                c -> c.with(Setting.WORKER_CONCURRENCY, String.valueOf(o.concurrency())),
                List.of());
        Connection db = cluster.connect()) {
      long deadline = System.nanoTime() + o.timeout().toNanos();
      String durability = BenchInfra.describe(db);
      String urgent = urgent(cluster, db, o, deadline, out);
      out.println(urgent);
      String keys = keys(cluster, db, o, deadline, out);
      out.println(keys);
      String rate = rate(cluster, db, o, deadline, out);
      out.println(rate);
      return "RESULT scenario=flow db=" + durability + " (parts above)";
    }
  }

  private static String urgent(
      LocalCluster cluster, Connection db, Options o, long deadline, PrintStream out)
      throws Exception {
    out.printf(
        "Urgent: %,d ordinary sleep(20 ms) jobs queued behind %d slots…%n",
        o.backlog(), o.concurrency());
    sendAll(cluster, o.backlog(), i -> "{\"type\":\"sleep\",\"payload\":{\"ms\":20}}");
    awaitCount(
        db, "SELECT count(*) FROM ferry.jobs WHERE status = 'QUEUED'", o.backlog() / 2, deadline);
    double[] lags = new double[o.samples()];
    for (int i = 0; i < o.samples(); i++) {
      UUID id = UUID.randomUUID();
      long sent = System.currentTimeMillis();
      cluster.submit(
          "{\"id\":\"" + id + "\",\"type\":\"sleep\",\"priority\":1,\"payload\":{\"ms\":20}}");
      long started = awaitStart(db, id, deadline);
      lags[i] = started - sent;
    }
    long queued = count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'QUEUED'");
    Arrays.sort(lags);
    return String.format(
        Locale.ROOT,
        "RESULT scenario=flow part=urgent samples=%d queued_behind=%d start_p50_ms=%.0f"
            + " start_p99_ms=%.0f start_max_ms=%.0f target_ms=1000 met=%b",
        lags.length,
        queued,
        at(lags, 0.5),
        at(lags, 0.99),
        lags[lags.length - 1],
        at(lags, 0.99) <= 1000);
  }

  private static String keys(
      LocalCluster cluster, Connection db, Options o, long deadline, PrintStream out)
      throws Exception {
    out.printf("Keys: waiting for the urgent part's backlog to drain…%n");
    awaitCount(
        db,
        "SELECT -count(*) FROM ferry.jobs WHERE status IN ('PENDING', 'QUEUED', 'RUNNING')",
        0,
        deadline);
    int n = o.keys() * o.perKey();
    out.printf("Keys: %,d unconstrained noop jobs…%n", n);
    double free =
        batch(cluster, db, n, i -> "{\"type\":\"noop\",\"payload\":{}}", "free", deadline);
    out.printf("Keys: %,d keys × limit 1, %d noop jobs each…%n", o.keys(), o.perKey());
    double keyed =
        batch(
            cluster,
            db,
            n,
            i ->
                "{\"type\":\"noop\",\"payload\":{},\"concurrency\":{\"key\":\"k"
                    + (i % o.keys())
                    + "\",\"limit\":1}}",
            "keyed",
            deadline);
    return String.format(
        Locale.ROOT,
        "RESULT scenario=flow part=keys keys=%d per_key=%d unconstrained_jobs_per_s=%.0f"
            + " keyed_jobs_per_s=%.0f ratio=%.2f",
        o.keys(),
        o.perKey(),
        free,
        keyed,
        keyed / free);
  }

  private static String rate(
      LocalCluster cluster, Connection db, Options o, long deadline, PrintStream out)
      throws Exception {
    exec(
        db,
        "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms)"
            + " VALUES ('bench-rated', "
            + o.rate()
            + ", 1000)");
    // Workers reread which dependencies are limited every 500 ms. Probe jobs of a limited
    // dependency go out until the worker asks for a start permit for one (a row in the limiter's
    // log): from then on it knows the limits, and the measured jobs go out.
    exec(
        db,
        "INSERT INTO ferry.dependency_limits (dependency, rate_limit, rate_period_ms)"
            + " VALUES ('bench-probe', 1000, 1000)");
    String probed = "SELECT count(*) FROM ferry.dependency_starts WHERE dependency = 'bench-probe'";
    while (count(db, probed) == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("flow: the worker never asked for a start permit");
      }
      sendAll(cluster, 1, i -> "{\"type\":\"noop\",\"dependency\":\"bench-probe\",\"payload\":{}}");
      awaitCount(
          db,
          "SELECT count(*) FROM ferry.jobs WHERE dependency = 'bench-probe'"
              + " AND status = 'SUCCEEDED'",
          count(db, "SELECT count(*) FROM ferry.jobs WHERE dependency = 'bench-probe'"),
          deadline);
    }
    out.printf("Rate: %,d noop jobs of a dependency limited to %d/1s…%n", o.rateJobs(), o.rate());
    sendAll(
        cluster,
        o.rateJobs(),
        i -> "{\"type\":\"noop\",\"dependency\":\"bench-rated\",\"payload\":{}}");
    awaitCount(
        db,
        "SELECT count(*) FROM ferry.jobs WHERE dependency = 'bench-rated' AND status = 'SUCCEEDED'",
        o.rateJobs(),
        deadline);
    List<Long> starts = new ArrayList<>();
    try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT (extract(epoch FROM a.started_at) * 1e6)::bigint FROM ferry.job_attempts a"
                    + " JOIN ferry.jobs j ON j.id = a.job_id WHERE j.dependency = 'bench-rated'"
                    + " ORDER BY 1");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        starts.add(rs.getLong(1));
      }
    }
    int worst = 0;
    for (int i = 0, k = 0; i < starts.size(); i++) {
      while (k < starts.size() && starts.get(k) < starts.get(i) + 1_000_000) {
        k++;
      }
      worst = Math.max(worst, k - i);
    }
    double seconds = (starts.get(starts.size() - 1) - starts.get(0)) / 1e6;
    double achieved = (starts.size() - 1) / seconds;
    return String.format(
        Locale.ROOT,
        "RESULT scenario=flow part=rate limit_per_s=%d jobs=%d achieved_per_s=%.1f"
            + " achieved_share=%.3f worst_1s_window=%d met=%b",
        o.rate(),
        starts.size(),
        achieved,
        achieved / o.rate(),
        worst,
        worst <= o.rate() && achieved >= 0.95 * o.rate());
  }

  /** Submits {@code n} jobs and returns jobs/s from the first created to the last finished. */
  private static double batch(
      LocalCluster cluster,
      Connection db,
      int n,
      java.util.function.IntFunction<String> json,
      String tag,
      long deadline)
      throws Exception {
    long before = count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'");
    long t0 = System.nanoTime();
    sendAll(cluster, n, json);
    awaitCount(
        db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'", before + n, deadline);
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /** Sends {@code n} submissions without waiting for each acknowledgement, then flushes. */
  private static void sendAll(
      LocalCluster cluster, int n, java.util.function.IntFunction<String> json) {
    String topic = dev.ferry.core.config.Topics.withPrefix(cluster.config().topicPrefix()).submit();
    try (var producer =
        dev.ferry.core.kafka.KafkaClients.producer(cluster.config(), "ferry-bench-flow")) {
      for (int i = 0; i < n; i++) {
        var unused =
            producer.send(
                new org.apache.kafka.clients.producer.ProducerRecord<>(
                    topic, json.apply(i).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
  }

  private static long awaitStart(Connection db, UUID id, long deadline) throws Exception {
    while (System.nanoTime() < deadline) {
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT (extract(epoch FROM started_at) * 1000)::bigint FROM ferry.jobs"
                  + " WHERE id = ? AND started_at IS NOT NULL")) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return rs.getLong(1);
          }
        }
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException("flow: urgent job " + id + " did not start before the timeout");
  }

  private static void awaitCount(Connection db, String sql, long atLeast, long deadline)
      throws Exception {
    while (count(db, sql) < atLeast) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("flow: timed out waiting for " + sql + " >= " + atLeast);
      }
      Thread.sleep(50);
    }
  }

  private static long count(Connection db, String sql) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void exec(Connection db, String sql) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute(sql);
    }
  }

  private static double at(double[] sorted, double p) {
    double pos = p * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }
}
