package dev.ferry.devtools;

import dev.ferry.cli.Sql;
import dev.ferry.testkit.LocalCluster;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs a self-contained demo (embedded Kafka, Postgres, orchestrator, workers).",
        "",
        "Starts a Kafka broker, PostgreSQL, an orchestrator, two workers and a flaky HTTP",
        "service on loopback; submits a few hundred jobs of every built-in type (some failing",
        "transiently, some for good, some invalid), shows live progress and a summary read",
        "from the database. Exits 0 when every job ended as expected."})
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--timeout-s", defaultValue = "180",
      description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  private record Planned(String json, String expected) {}

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    System.out.println("Ferry demo: starting embedded Kafka, PostgreSQL, an orchestrator and two workers…");
    try (FlakyServer http = new FlakyServer();
        FlakyServer payments = new FlakyServer();
        LocalCluster cluster =
            LocalCluster.start(
                "ferry_demo",
                2,
                c -> c.with(Setting.TOPIC_PARTITIONS, "6")
                    .with(Setting.WORKER_CONCURRENCY, "32")
                    .with(Setting.BACKOFF_INITIAL_MS, "200")
                    .with(Setting.BACKOFF_MAX_MS, "2000")
                    .with(Setting.BREAKER_OPEN_MS, "3000")
                    .with(Setting.BREAKER_REPORT_MS, "20"),
                List.of())) {
      System.out.printf("Ready in %.1f s. Downstream service at %s%n", secs(t0), http.baseUrl());
      List<Planned> jobs = plan(http.baseUrl());
      FerryConfig config = cluster.config();
      int invalid = submit(config, jobs);
      long expectedOk = jobs.stream().filter(p -> p.expected().equals("SUCCEEDED")).count();
      long expectedFailed = jobs.size() - expectedOk;
      System.out.printf("Submitted %d jobs (+%d invalid records that must be rejected).%n",
          jobs.size(), invalid);
      try (Connection db = DriverManager.getConnection(config.get(Setting.DB_URL),
          config.get(Setting.DB_USER), config.get(Setting.DB_PASSWORD))) {
        boolean finished = progress(db, jobs.size(), invalid, timeoutS);
        System.out.println();
        System.out.println("Jobs by type and status (SELECT type, status, count(*) … FROM ferry.jobs):");
        try (Statement st = db.createStatement();
            ResultSet rs = st.executeQuery(
                """
                SELECT type, status, count(*) AS jobs, round(avg(attempts), 2) AS avg_attempts,
                       max(last_error) AS example_error
                FROM ferry.jobs GROUP BY type, status ORDER BY type, status
                """)) {
          Sql.printTable(rs, 70);
        }
        System.out.println();
        System.out.println("Rejected submissions (ferry.rejected_submissions, also on ferry.dlq):");
        try (Statement st = db.createStatement();
            ResultSet rs = st.executeQuery(
                "SELECT partition, \"offset\", reason FROM ferry.rejected_submissions ORDER BY id")) {
          Sql.printTable(rs, 90);
        }
        long ok = count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'");
        long failed = count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'FAILED'");
        long rejected = count(db, "SELECT count(*) FROM ferry.rejected_submissions");
        long retried = count(db, "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED' AND attempts > 1");
        System.out.println();
        System.out.printf(
            "%d succeeded (%d after transient failures), %d failed as expected, %d rejected;"
                + " %d HTTP calls to the downstream; %.1f s in all.%n",
            ok, retried, failed, rejected, http.totalCalls(), secs(t0));
        boolean asExpected =
            finished && ok == expectedOk && failed == expectedFailed && rejected == invalid;
        if (!asExpected) {
          System.out.printf("UNEXPECTED: wanted %d succeeded, %d failed, %d rejected.%n",
              expectedOk, expectedFailed, invalid);
          return 1;
        }
        if (!outage(config, db, payments, timeoutS)) {
          return 1;
        }
        if (!fanOut(config, db, http, timeoutS)) {
          return 1;
        }
        System.out.println("Try: SELECT id, status, attempts, last_error FROM ferry.jobs WHERE status = 'FAILED';");
        return 0;
      }
    }
  }

  /**
   * Part two: a downstream outage. 100 jobs call a service that is down; its shared breaker
   * opens, no worker calls it while it is open, the service comes back, the breaker half-opens
   * with a few trial calls, closes, and every job succeeds.
   */
  private static boolean outage(FerryConfig config, Connection db, FlakyServer payments,
      int timeoutS) throws Exception {
    System.out.println();
    System.out.println("Part 2 — a downstream outage. " + payments.dependency()
        + " is down; submitting 100 http jobs to it…");
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    String topic = Topics.withPrefix(config.topicPrefix()).submit();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 100; i++) {
        String json = "{\"type\":\"http\",\"maxAttempts\":10,\"key\":\"payment-" + i
            + "\",\"payload\":{\"url\":\"" + payments.baseUrl() + "/outage\"}}";
        var unused = producer.send(new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
    String dep = payments.dependency();
    long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
    String last = "";
    java.time.Instant openedAt = null;
    java.time.Instant halfOpenAt = null;
    long calledBeforeTrip = 0;
    while (System.nanoTime() < deadline) {
      String state = "CLOSED";
      try (var ps = db.prepareStatement(
          "SELECT state, opened_at, retry_at, generation FROM ferry.circuit_breakers WHERE dependency = ?")) {
        ps.setString(1, dep);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            state = rs.getString(1);
            if (state.equals("OPEN") && openedAt == null) {
              openedAt = rs.getTimestamp(2).toInstant();
              calledBeforeTrip = payments.outageCalls();
              System.out.printf("  breaker OPEN after %d failed calls; jobs wait until %s%n",
                  calledBeforeTrip, rs.getTimestamp(3).toInstant());
              System.out.println("  the service comes back now (the breaker does not know yet)");
              payments.outage = false;
            }
            if (state.equals("HALF_OPEN") && halfOpenAt == null) {
              halfOpenAt = java.time.Instant.now();
            }
          }
        }
      }
      long done = count(db, "SELECT count(*) FROM ferry.jobs WHERE key LIKE 'payment-%' AND status = 'SUCCEEDED'");
      String line = String.format("  breaker %-9s · %3d/100 succeeded · %d calls to the service", state, done,
          payments.outageCalls());
      if (!line.equals(last)) {
        System.out.println(line);
        last = line;
      }
      if (done == 100) {
        long whileOpen = openedAt == null || halfOpenAt == null ? -1
            : payments.outageCallsBetween(openedAt.plusMillis(200), halfOpenAt.minusMillis(200));
        long attempts = count(db, "SELECT sum(attempts) FROM ferry.jobs WHERE key LIKE 'payment-%'");
        System.out.printf("All 100 payments succeeded: %d calls in all, %d while the breaker was"
            + " OPEN, %d attempts used (the waiting gave its attempts back).%n",
            payments.outageCalls(), whileOpen, attempts);
        try (var ps = db.prepareStatement(
            "SELECT dependency, state, trips, generation, last_reason FROM ferry.circuit_breakers"
                + " WHERE dependency = ?")) {
          ps.setString(1, dep);
          try (ResultSet rs = ps.executeQuery()) {
            Sql.printTable(rs, 60);
          }
        }
        return openedAt != null;
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(100);
    }
    System.out.println("Timed out waiting for the outage jobs.");
    return false;
  }

  /**
   * Part three: fan-out / fan-in. One parent with 300 children calling the flaky downstream
   * (one in four fails once and is retried); the parent completes with the aggregate. Each
   * child names its own dependency, so single retried failures do not trip a shared breaker
   * (part two shows one).
   */
  private static boolean fanOut(FerryConfig config, Connection db, FlakyServer http, int timeoutS)
      throws Exception {
    System.out.println();
    System.out.println("Part 3 — fan-out / fan-in: one parent job with 300 children calling the"
        + " flaky downstream…");
    UUID parent = UUID.randomUUID();
    StringBuilder json = new StringBuilder("{\"id\":\"" + parent
        + "\",\"failurePolicy\":\"collect\",\"children\":[");
    for (int i = 0; i < 300; i++) {
      json.append(i > 0 ? "," : "").append("{\"type\":\"http\",\"key\":\"item-").append(i)
          .append("\",\"dependency\":\"demo-batch-").append(i).append("\",")
          .append("\"backoff\":{\"initialMs\":100,\"jitter\":0.5},")
          .append("\"payload\":{\"url\":\"").append(http.baseUrl()).append("/flaky?key=batch")
          .append(i).append("&fail=").append(i % 4 == 0 ? 1 : 0).append("\"}}");
    }
    json.append("]}");
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.withPrefix(config.topicPrefix()).submit(),
          json.toString().getBytes(StandardCharsets.UTF_8))).get();
    }
    long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
    String last = "";
    while (System.nanoTime() < deadline) {
      try (var ps = db.prepareStatement(
          "SELECT status, children_done, children_total, result->>'total', result->>'succeeded',"
              + " result->>'failed', result->'results'->'item-4' FROM ferry.jobs WHERE id = ?")) {
        ps.setObject(1, parent);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            String line = String.format("  parent %-16s · %3d/%d children done", rs.getString(1),
                rs.getInt(2), rs.getInt(3));
            if (!line.equals(last)) {
              System.out.println(line);
              last = line;
            }
            if (rs.getString(1).equals("SUCCEEDED")) {
              long retried = count(db, "SELECT count(*) FROM ferry.jobs WHERE parent_id = '"
                  + parent + "' AND attempts > 1");
              System.out.printf("Aggregate: total %s, succeeded %s, failed %s (%d children needed a"
                  + " retry); e.g. results.item-4 = %s%n", rs.getString(4), rs.getString(5),
                  rs.getString(6), retried, rs.getString(7));
              System.out.println("Inspect it: ./ferry status " + parent + "   (or SELECT result FROM"
                  + " ferry.jobs WHERE id = '" + parent + "')");
              return "300".equals(rs.getString(4)) && "300".equals(rs.getString(5));
            }
          }
        }
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(200);
    }
    System.out.println("Timed out waiting for the fan-out.");
    return false;
  }

  private static List<Planned> plan(String base) {
    List<Planned> p = new ArrayList<>();
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < 100; i++) {
      p.add(new Planned("{\"type\":\"noop\"}", "SUCCEEDED"));
    }
    for (int i = 0; i < 100; i++) {
      p.add(new Planned("{\"type\":\"echo\",\"payload\":{\"n\":" + i + ",\"msg\":\"hello\"}}", "SUCCEEDED"));
    }
    for (int i = 0; i < 40; i++) {
      p.add(new Planned("{\"type\":\"sleep\",\"payload\":{\"ms\":" + r.nextInt(100, 600) + "}}", "SUCCEEDED"));
    }
    for (int i = 0; i < 100; i++) {
      p.add(new Planned(http(base + "/ok", ""), "SUCCEEDED"));
    }
    for (int i = 0; i < 60; i++) {
      // Each flaky job names its own dependency: a few transient failures of one job must
      // not trip a breaker shared with the others (part 2 shows a real outage).
      p.add(new Planned(http(base + "/flaky?key=k" + i + "&fail=" + (1 + i % 2),
          ",\"dependency\":\"demo-flaky-" + i + "\""), "SUCCEEDED"));
    }
    for (int i = 0; i < 10; i++) {
      p.add(new Planned(http(base + "/missing", ""), "FAILED"));
    }
    for (int i = 0; i < 10; i++) {
      p.add(new Planned(http(base + "/down", ",\"maxAttempts\":3,\"dependency\":\"demo-down-" + i + "\""),
          "FAILED"));
    }
    for (int i = 0; i < 5; i++) {
      p.add(new Planned("{\"type\":\"resize-image\",\"payload\":{\"w\":100}}", "FAILED"));
    }
    java.util.Collections.shuffle(p);
    return p;
  }

  private static String http(String url, String extra) {
    return "{\"type\":\"http\",\"payload\":{\"method\":\"GET\",\"url\":\"" + url + "\"}" + extra + "}";
  }

  private static final List<String> INVALID =
      List.of(
          "this is not json",
          "{\"type\":\"noop\",\"maxAttempts\":-1}",
          "{\"payload\":{}}",
          "{\"type\":\"noop\",\"id\":\"not-a-uuid\"}",
          "{\"type\":\"noop\",\"colour\":\"blue\"}");

  private static int submit(FerryConfig config, List<Planned> jobs) throws Exception {
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    p.put("acks", "all");
    String topic = Topics.withPrefix(config.topicPrefix()).submit();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < jobs.size(); i++) {
        String json = jobs.get(i).json();
        String withId = "{\"id\":\"" + UUID.randomUUID() + "\"," + json.substring(1);
        var unused = producer.send(new ProducerRecord<>(topic, withId.getBytes(StandardCharsets.UTF_8)));
        if (i % 80 == 40 && i / 80 < INVALID.size()) {
          String bad = INVALID.get(i / 80);
          var unusedBad = producer.send(new ProducerRecord<>(topic, bad.getBytes(StandardCharsets.UTF_8)));
        }
      }
      producer.flush();
    }
    return (int) java.util.stream.IntStream.range(0, jobs.size())
        .filter(i -> i % 80 == 40 && i / 80 < INVALID.size()).count();
  }

  private static boolean progress(Connection db, int total, int invalid, int timeoutS)
      throws Exception {
    long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
    long t0 = System.nanoTime();
    boolean tty = System.console() != null;
    long lastLine = 0;
    while (true) {
      StringBuilder line = new StringBuilder();
      long terminal = 0;
      long accepted = 0;
      try (Statement st = db.createStatement();
          ResultSet rs = st.executeQuery(
              "SELECT status, count(*) FROM ferry.jobs GROUP BY status ORDER BY status")) {
        while (rs.next()) {
          String s = rs.getString(1);
          long n = rs.getLong(2);
          accepted += n;
          if (s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED")) {
            terminal += n;
          }
          line.append(" ").append(s).append(' ').append(n);
        }
      }
      long rejected = count(db, "SELECT count(*) FROM ferry.rejected_submissions");
      String text = String.format("[%5.1fs] %d/%d done ·%s · rejected %d", secs(t0), terminal,
          total, line, rejected);
      boolean done = terminal >= total && accepted >= total && rejected >= invalid;
      if (tty) {
        System.out.print("\r" + text + "   ");
      } else if (done || System.nanoTime() - lastLine > 2_000_000_000L) {
        System.out.println(text);
        lastLine = System.nanoTime();
      }
      if (done) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        System.out.println();
        System.out.println("Timed out waiting for jobs to finish.");
        return false;
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(250);
    }
  }

  private static long count(Connection db, String sql) throws Exception {
    try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
