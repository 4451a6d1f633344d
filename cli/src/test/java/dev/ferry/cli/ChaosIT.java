package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.KafkaBrokerProcess;
import dev.ferry.testkit.PostgresProcess;
import dev.ferry.testkit.TestDatabase;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The chaos harness. Kafka runs as a separate process, PostgreSQL as its own server, two
 * orchestrators and three workers as separate JVMs ({@code ferry orchestrator} / {@code ferry
 * worker}), and a flaky HTTP service in this JVM counts every handler run. A mixed workload ({@code
 * noop}, {@code sleep}, {@code http} with failures and retries, a breaker outage, and fan-outs) is
 * submitted while random workers and orchestrators are killed with SIGKILL and restarted again and
 * again, the Kafka broker is killed and restarted once and PostgreSQL is restarted once. Then every
 * invariant of DESIGN section 5 is checked on the database and the service's counts, and a report
 * is printed (a line starting {@code CHAOS}).
 *
 * <p>CI runs the short version; the long one runs on demand: {@code ./mvnw verify -pl cli
 * -Dit.test=ChaosIT -Dchaos.long=true}.
 */
@Tag("chaos")
class ChaosIT {

  /** How much work and how many faults. */
  record Plan(int singles, int parents, int childrenEach, Duration submitOver, int kills) {}

  @Test
  void shortChaos_everyInvariantHolds() throws Exception {
    new Run(new Plan(2_400, 8, 50, Duration.ofSeconds(75), 4)).execute();
  }

  @Test
  @EnabledIfSystemProperty(named = "chaos.long", matches = "true")
  void longChaos_everyInvariantHolds() throws Exception {
    new Run(new Plan(18_000, 40, 50, Duration.ofSeconds(240), 14)).execute();
  }

  /** A fault and how long the system took to process new work again. */
  record Fault(String what, long atMs, long recoveredAfterMs) {}

  static final class Run {
    private final Plan plan;
    private final Path dir;
    private final long t0 = System.nanoTime();
    private final List<Fault> faults = new ArrayList<>();
    private final Map<String, Proc> procs = new HashMap<>();
    private final Map<UUID, ConcurrentLinkedQueue<Long>> hits = new ConcurrentHashMap<>();
    private final AtomicLong outageCalls = new AtomicLong();
    private final AtomicBoolean outage = new AtomicBoolean();
    private final List<long[]> faultWindows = new ArrayList<>();
    private PostgresProcess postgres;
    private KafkaBrokerProcess kafka;
    private TestDatabase db;
    private HttpServer service;
    private KafkaProducer<byte[], byte[]> producer;
    private int kills;

    Run(Plan plan) throws IOException {
      this.plan = plan;
      this.dir = Files.createTempDirectory("ferry-chaos-");
    }

    long now() {
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    void log(String fmt, Object... args) {
      System.out.printf("[chaos %6.1fs] %s%n", now() / 1000.0, String.format(fmt, args));
    }

    void execute() throws Exception {
      try {
        setUp();
        List<UUID> accepted = new ArrayList<>();
        Map<UUID, List<UUID>> parents = new HashMap<>();
        List<UUID> httpJobs = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> submitError =
            new java.util.concurrent.atomic.AtomicReference<>();
        Thread submitter =
            Thread.ofPlatform()
                .name("chaos-submit")
                .start(
                    () -> {
                      try {
                        submit(accepted, parents, httpJobs);
                      } catch (Throwable e) {
                        submitError.set(e);
                      }
                    });
        Thread sampler = Thread.ofPlatform().daemon().name("chaos-sample").start(this::sample);
        chaos(submitter);
        submitter.join();
        if (submitError.get() != null) {
          throw new AssertionError("the workload could not be submitted", submitError.get());
        }
        log(
            "all %d submissions acknowledged by Kafka (%d re-sent after a failed send);"
                + " waiting for every job to finish",
            accepted.size(), resent.get());
        List<UUID> all = new ArrayList<>(accepted);
        parents.values().forEach(all::addAll);
        all.addAll(canaries);
        awaitAllTerminal(all);
        sampling = false;
        sampler.interrupt();
        check(accepted, parents, httpJobs);
      } finally {
        tearDown();
      }
    }

    private void setUp() throws Exception {
      // If this JVM dies, its child processes must not outlive it.
      Runtime.getRuntime().addShutdownHook(new Thread(this::tearDown));
      postgres = PostgresProcess.start();
      db = postgres.newDatabase("chaos");
      kafka = KafkaBrokerProcess.create().start();
      service = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
      service.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      service.createContext(
          "/job/",
          ex -> {
            try (ex) {
              UUID id = UUID.fromString(ex.getRequestURI().getPath().substring(5));
              hits.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).add(now());
              int code;
              if (outage.get()) {
                outageCalls.incrementAndGet();
                code = 503;
              } else {
                code = ThreadLocalRandom.current().nextInt(100) < 15 ? 503 : 200;
              }
              try {
                Thread.sleep(ThreadLocalRandom.current().nextInt(5, 30)); // service latency
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
              ex.sendResponseHeaders(code, body.length);
              ex.getResponseBody().write(body);
            } catch (RuntimeException e) {
              // a malformed request: answered by the closed exchange
            }
          });
      service.start();
      for (int i = 0; i < 2; i++) {
        start(new Proc("orchestrator", "o" + i));
      }
      for (int i = 0; i < 3; i++) {
        start(new Proc("worker", "w" + i));
      }
      Properties p = new Properties();
      p.put("bootstrap.servers", kafka.bootstrapServers());
      p.put("acks", "all");
      p.put("linger.ms", "5");
      p.put("delivery.timeout.ms", "600000");
      p.put("max.block.ms", "600000");
      producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
      await("three workers heartbeating; logs in " + dir)
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> workersUp() >= 3);
      log(
          "infrastructure up: Kafka %s, PostgreSQL port %d, service port %d, logs in %s",
          kafka.bootstrapServers(), postgres.port(), service.getAddress().getPort(), dir);
    }

    private long runningOn(String worker) {
      try (Connection c = connect();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM ferry.jobs WHERE status = 'RUNNING' AND worker_id = ?")) {
        ps.setString(1, worker);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      } catch (Exception e) {
        return -1;
      }
    }

    /** Finished jobs per 5 s, sampled while the run lasts (the progress timeline). */
    private final List<String> timeline = new ArrayList<>();

    private volatile boolean sampling = true;

    private void sample() {
      long last = 0;
      while (sampling) {
        try {
          TimeUnit.SECONDS.sleep(5); // the sampling period
          long done =
              count(
                  "SELECT count(*) FROM ferry.jobs WHERE status IN"
                      + " ('SUCCEEDED', 'FAILED', 'CANCELLED')");
          long known = count("SELECT count(*) FROM ferry.jobs");
          synchronized (timeline) {
            timeline.add(now() / 1000 + "s:+" + (done - last) + "/" + known);
          }
          last = done;
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          synchronized (timeline) {
            timeline.add(now() / 1000 + "s:db-down");
          }
        }
      }
    }

    /** Workers heartbeating now (0 while the orchestrators are still migrating). */
    private long workersUp() {
      try {
        return count(
            "SELECT count(*) FROM ferry.workers WHERE heartbeat_at > now() - interval '2 s'");
      } catch (Exception e) {
        return 0;
      }
    }

    final class Proc {
      final String role;
      final String id;
      Process process;
      int starts;

      Proc(String role, String id) {
        this.role = role;
        this.id = id;
      }
    }

    private void start(Proc proc) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      // C1 only and the serial collector: these JVMs restart again and again on two cores.
      ProcessBuilder pb =
          new ProcessBuilder(
                  java,
                  "-Xmx256m",
                  "-XX:TieredStopAtLevel=1",
                  "-XX:+UseSerialGC",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName(),
                  proc.role)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dir.resolve(proc.id + ".log").toFile()));
      Map<String, String> e = pb.environment();
      e.put(Setting.KAFKA_BOOTSTRAP_SERVERS.env(), kafka.bootstrapServers());
      e.put(Setting.DB_URL.env(), db.url());
      e.put(Setting.DB_USER.env(), db.user());
      e.put(Setting.DB_PASSWORD.env(), db.password());
      e.put(Setting.TOPIC_PREFIX.env(), "chaos.");
      e.put(Setting.TOPIC_PARTITIONS.env(), "6");
      e.put(Setting.DB_POOL_SIZE.env(), "6");
      e.put(Setting.HEALTH_PORT.env(), "0");
      e.put(Setting.WORKER_CONCURRENCY.env(), "40");
      e.put(Setting.WORKER_HEARTBEAT_MS.env(), "500");
      e.put(Setting.RESCUE_AFTER_MS.env(), "3000");
      e.put(Setting.JOB_MAX_ATTEMPTS.env(), "12");
      e.put(Setting.BACKOFF_INITIAL_MS.env(), "200");
      e.put(Setting.BACKOFF_MAX_MS.env(), "2000");
      e.put(Setting.BREAKER_OPEN_MS.env(), "1500");
      e.put(Setting.BREAKER_OPEN_MAX_MS.env(), "3000");
      e.put(Setting.BREAKER_WINDOW_SIZE.env(), "40");
      e.put(Setting.BREAKER_MINIMUM_CALLS.env(), "20");
      e.put(Setting.BREAKER_FAILURE_RATE_THRESHOLD.env(), "60");
      e.put(Setting.WORKER_ID.env(), proc.id);
      e.put("FERRY_KAFKA_SESSION_TIMEOUT_MS", "6000");
      e.put("FERRY_KAFKA_HEARTBEAT_INTERVAL_MS", "1000");
      proc.process = pb.start();
      proc.starts++;
      procs.put(proc.id, proc);
    }

    /** Submits the workload at an even pace over {@code plan.submitOver}. */
    private void submit(List<UUID> accepted, Map<UUID, List<UUID>> parents, List<UUID> httpJobs)
        throws Exception {
      Random r = new Random(42);
      String url = "http://127.0.0.1:" + service.getAddress().getPort() + "/job/";
      int total = plan.singles() + plan.parents();
      int parentEvery = Math.max(1, total / Math.max(1, plan.parents()));
      long spacingNanos = plan.submitOver().toNanos() / total;
      long next = System.nanoTime();
      int parentsMade = 0;
      for (int i = 0; i < total; i++) {
        UUID id = UUID.randomUUID();
        String json;
        if (i % parentEvery == parentEvery - 1 && parentsMade < plan.parents()) {
          parentsMade++;
          List<UUID> kids = new ArrayList<>();
          StringBuilder sb =
              new StringBuilder(
                  "{\"id\":\"" + id + "\",\"failurePolicy\":\"collect\",\"children\":[");
          for (int k = 0; k < plan.childrenEach(); k++) {
            UUID kid = UUID.randomUUID();
            kids.add(kid);
            if (k > 0) {
              sb.append(',');
            }
            if (k % 2 == 0) {
              sb.append(http(kid, url)).append("");
              synchronized (httpJobs) {
                httpJobs.add(kid);
              }
            } else {
              sb.append("{\"id\":\"")
                  .append(kid)
                  .append("\",\"type\":\"noop\",\"key\":\"k")
                  .append(k)
                  .append("\"}");
            }
          }
          sb.append("]}");
          json = sb.toString();
          synchronized (parents) {
            parents.put(id, kids);
          }
        } else {
          int kind = r.nextInt(100);
          if (kind < 50) {
            json = "{\"id\":\"" + id + "\",\"type\":\"noop\"}";
          } else if (kind < 65) {
            json =
                "{\"id\":\""
                    + id
                    + "\",\"type\":\"sleep\",\"payload\":{\"ms\":"
                    + (200 + r.nextInt(2800))
                    + "}}";
          } else {
            json = http(id, url);
            synchronized (httpJobs) {
              httpJobs.add(id);
            }
          }
        }
        synchronized (accepted) {
          accepted.add(id);
        }
        sends.add(
            Map.entry(
                json,
                producer.send(
                    new ProducerRecord<>("chaos.submit", json.getBytes(StandardCharsets.UTF_8)))));
        // Steady pace; no catch-up burst after the producer was held up (a broker restart).
        next = Math.max(next + spacingNanos, System.nanoTime());
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait); // pacing the offered load
        }
      }
      producer.flush();
      // A submission is accepted once Kafka acknowledges it. A send that failed (the broker was
      // being restarted) is sent again, as any client would; the id makes it idempotent.
      for (var e : sends) {
        try {
          e.getValue().get();
        } catch (java.util.concurrent.ExecutionException failed) {
          resent.incrementAndGet();
          sendUntilAcked(e.getKey());
        }
      }
    }

    private final List<Map.Entry<String, java.util.concurrent.Future<?>>> sends = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger resent =
        new java.util.concurrent.atomic.AtomicInteger();
    private final List<UUID> canaries = java.util.Collections.synchronizedList(new ArrayList<>());

    private void sendUntilAcked(String json) throws InterruptedException {
      while (true) {
        try {
          producer
              .send(new ProducerRecord<>("chaos.submit", json.getBytes(StandardCharsets.UTF_8)))
              .get();
          return;
        } catch (java.util.concurrent.ExecutionException e) {
          log("send failed (%s); sending again", e.getCause());
        }
      }
    }

    private static String http(UUID id, String url) {
      return "{\"id\":\""
          + id
          + "\",\"type\":\"http\",\"dependency\":\"flaky\",\"key\":\"h"
          + id
          + "\",\"payload\":{\"method\":\"GET\",\"url\":\""
          + url
          + id
          + "\",\"timeoutMs\":3000}}";
    }

    /** Faults one after another while the workload runs; each waits for recovery. */
    private void chaos(Thread submitter) throws Exception {
      Random r = new Random(7);
      TimeUnit.SECONDS.sleep(3); // let the load start before the first fault
      List<String> order = new ArrayList<>();
      for (int i = 0; i < plan.kills(); i++) {
        order.add("kill");
      }
      order.add(Math.min(1, order.size()), "outage");
      order.add(Math.min(3, order.size()), "kafka");
      order.add(Math.min(5, order.size()), "postgres");
      for (String f : order) {
        long at = now();
        String what;
        switch (f) {
          case "kill" -> {
            // Workers and orchestrators in turn (two workers for each orchestrator).
            String role = kills % 3 == 1 ? "orchestrator" : "worker";
            List<Proc> all = procs.values().stream().filter(p -> p.role.equals(role)).toList();
            Proc victim = all.get(r.nextInt(all.size()));
            long running = role.equals("worker") ? runningOn(victim.id) : -1;
            victim.process.destroyForcibly();
            victim.process.waitFor();
            kills++;
            what =
                "kill -9 "
                    + victim.id
                    + " ("
                    + victim.role
                    + (running >= 0 ? ", " + running + " jobs running on it" : "")
                    + ")";
            log("%s", what);
            TimeUnit.MILLISECONDS.sleep(500 + r.nextInt(1500)); // down for a while
            start(victim);
          }
          case "kafka" -> {
            what = "Kafka broker kill -9 and restart";
            log("%s", what);
            kafka.kill();
            TimeUnit.SECONDS.sleep(2); // the broker stays down for 2 s
            kafka.start();
          }
          case "postgres" -> {
            what = "PostgreSQL restart";
            log("%s", what);
            postgres.stop();
            TimeUnit.SECONDS.sleep(2); // the database stays down for 2 s
            postgres.restart();
          }
          default -> {
            what = "downstream outage (all calls fail for 4 s)";
            log("%s", what);
            outage.set(true);
            TimeUnit.SECONDS.sleep(4); // the outage lasts 4 s
            outage.set(false);
          }
        }
        long recovered = awaitCanaries() - at;
        faults.add(new Fault(what, at, recovered));
        faultWindows.add(new long[] {at, at + recovered});
        log("recovered %d ms after: %s", recovered, what);
        TimeUnit.MILLISECONDS.sleep(1000 + r.nextInt(2000)); // calm between faults
      }
    }

    /** Submits three no-op canaries and returns when all three succeeded (ms since start). */
    private long awaitCanaries() throws Exception {
      List<UUID> canaries = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        UUID id = UUID.randomUUID();
        canaries.add(id);
        this.canaries.add(id);
        sendUntilAcked("{\"id\":\"" + id + "\",\"type\":\"noop\"}");
      }
      // The database may be restarting: errors only mean "not yet".
      await("recovery within 180 s; logs in " + dir)
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(50))
          .ignoreExceptions()
          .until(
              () ->
                  countIds(
                          "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'"
                              + " AND id = ANY(?)",
                          canaries)
                      == 3);
      return now();
    }

    private void awaitAllTerminal(List<UUID> all) throws Exception {
      long[] last = {-1};
      try {
        await()
            .atMost(Duration.ofMinutes(6))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () -> {
                  long total = countIds("SELECT count(*) FROM ferry.jobs WHERE id = ANY(?)", all);
                  long open =
                      count(
                          "SELECT count(*) FROM ferry.jobs WHERE status NOT IN"
                              + " ('SUCCEEDED', 'FAILED', 'CANCELLED')");
                  if (open != last[0]) {
                    log("%d jobs known, %d not finished yet", total, open);
                    last[0] = open;
                  }
                  return total == all.size() && open == 0;
                });
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        List<UUID> missing = new ArrayList<>(all);
        try (Connection c = connect();
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT id FROM ferry.jobs")) {
          while (rs.next()) {
            missing.remove(rs.getObject(1, UUID.class));
          }
        }
        throw new AssertionError(
            last[0]
                + " jobs not terminal after 6 minutes; missing "
                + missing.stream().limit(20).toList()
                + "; logs in "
                + dir
                + "; "
                + statusCounts(),
            e);
      }
    }

    private void check(List<UUID> accepted, Map<UUID, List<UUID>> parents, List<UUID> httpJobs)
        throws Exception {
      List<UUID> all = new ArrayList<>(accepted);
      parents.values().forEach(all::addAll);
      // 1. Nothing lost: every submitted job is in the database and terminal.
      long known = countIds("SELECT count(*) FROM ferry.jobs WHERE id = ANY(?)", all);
      long terminal =
          countIds(
              "SELECT count(*) FROM ferry.jobs WHERE id = ANY(?) AND status IN"
                  + " ('SUCCEEDED', 'FAILED', 'CANCELLED')",
              all);
      // 2. Applied once: attempt rows match attempts counts, each attempt finished once.
      long attemptMismatch =
          count(
              """
          SELECT count(*) FROM ferry.jobs j
          WHERE j.attempts <> (SELECT count(*) FROM ferry.job_attempts a WHERE a.job_id = j.id)
             OR j.attempts <> coalesce((SELECT max(attempt) FROM ferry.job_attempts a
                                        WHERE a.job_id = j.id), 0)""");
      long unfinishedAttempts =
          count("SELECT count(*) FROM ferry.job_attempts WHERE outcome IS NULL");
      long doubleSuccess =
          count(
              """
          SELECT count(*) FROM (SELECT job_id FROM ferry.job_attempts WHERE outcome = 'SUCCEEDED'
                                GROUP BY job_id HAVING count(*) > 1) d""");
      long statusMismatch =
          count(
              """
          SELECT count(*) FROM ferry.jobs j WHERE j.attempts > 0 AND j.status = 'SUCCEEDED'
            AND NOT EXISTS (SELECT 1 FROM ferry.job_attempts a WHERE a.job_id = j.id
                              AND a.attempt = j.attempts AND a.outcome = 'SUCCEEDED')""");
      // 3. Fan-in exact.
      long fanInWrong =
          count(
              """
          SELECT count(*) FROM ferry.jobs p
          WHERE p.children_total > 0 AND (
            p.children_total <> (SELECT count(*) FROM ferry.jobs c WHERE c.parent_id = p.id)
            OR p.children_done <> (SELECT count(*) FROM ferry.jobs c WHERE c.parent_id = p.id
                                   AND c.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
            OR (p.result->>'total')::int <> p.children_total
            OR (p.result->>'succeeded')::int <> (SELECT count(*) FROM ferry.jobs c
                                   WHERE c.parent_id = p.id AND c.status = 'SUCCEEDED'))""");
      // 4. Handler runs counted by the service against the attempts that called it.
      Map<UUID, long[]> attemptsById = new HashMap<>(); // {applied calls, worker lost}
      try (Connection c = connect();
          PreparedStatement ps =
              c.prepareStatement(
                  """
          SELECT job_id,
                 count(*) FILTER (WHERE outcome IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'NON_RETRYABLE')),
                 count(*) FILTER (WHERE outcome = 'WORKER_LOST')
          FROM ferry.job_attempts WHERE job_id = ANY(?) GROUP BY job_id""")) {
        ps.setArray(1, c.createArrayOf("uuid", httpJobs.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            attemptsById.put(
                rs.getObject(1, UUID.class), new long[] {rs.getLong(2), rs.getLong(3)});
          }
        }
      }
      long runs = 0;
      long appliedCalls = 0;
      long lostRuns = 0;
      long duplicates = 0;
      long duplicatesAwayFromFaults = 0;
      long runsMissing = 0;
      for (UUID id : httpJobs) {
        ConcurrentLinkedQueue<Long> h = hits.getOrDefault(id, new ConcurrentLinkedQueue<>());
        long[] a = attemptsById.getOrDefault(id, new long[2]);
        runs += h.size();
        appliedCalls += a[0];
        if (h.size() < a[0]) {
          runsMissing++;
        }
        long extra = h.size() - a[0];
        long lost = Math.min(extra, a[1]);
        lostRuns += Math.max(0, lost);
        long dup = Math.max(0, extra - a[1]);
        duplicates += dup;
        if (dup > 0 && h.stream().noneMatch(this::nearFault)) {
          duplicatesAwayFromFaults += dup;
        }
      }
      String statuses = statusCounts();
      long poison = count("SELECT count(*) FROM ferry.jobs WHERE last_error LIKE 'poison:%'");
      long rescued = count("SELECT count(*) FROM ferry.job_attempts WHERE outcome = 'WORKER_LOST'");
      String recoveries =
          faults.stream()
              .map(f -> f.what() + " @" + f.atMs() / 1000 + "s → " + f.recoveredAfterMs() + " ms")
              .reduce((x, y) -> x + "; " + y)
              .orElse("");
      log(
          "CHAOS jobs=%d kills=%d kafka_restarts=1 postgres_restarts=1 lost=%d not_terminal=%d"
              + " attempt_mismatch=%d double_applied=%d fan_in_wrong=%d http_runs=%d"
              + " applied_calls=%d runs_of_killed_attempts=%d duplicate_runs=%d"
              + " duplicates_away_from_faults=%d rescued_attempts=%d poison=%d statuses={%s}",
          all.size(),
          kills,
          all.size() - known,
          all.size() - terminal,
          attemptMismatch,
          doubleSuccess + statusMismatch,
          fanInWrong,
          runs,
          appliedCalls,
          lostRuns,
          duplicates,
          duplicatesAwayFromFaults,
          rescued,
          poison,
          statuses);
      log("CHAOS recovery: %s", recoveries);
      log("CHAOS downstream calls during the outage: %d", outageCalls.get());
      synchronized (timeline) {
        log("CHAOS finished per 5 s (+finished/known): %s", String.join(" ", timeline));
      }
      assertThat(known).as("jobs in the database (none lost)").isEqualTo(all.size());
      assertThat(terminal).as("terminal jobs").isEqualTo(all.size());
      assertThat(attemptMismatch).as("jobs whose attempt rows disagree with attempts").isZero();
      assertThat(unfinishedAttempts).as("attempt rows without an outcome").isZero();
      assertThat(doubleSuccess + statusMismatch).as("outcomes applied twice").isZero();
      assertThat(fanInWrong).as("parents whose fan-in counts are wrong").isZero();
      assertThat(runsMissing).as("applied calls without a handler run").isZero();
      assertThat(duplicatesAwayFromFaults).as("duplicate runs away from any fault").isZero();
      assertThat(kills).isEqualTo(plan.kills());
    }

    private boolean nearFault(long atMs) {
      for (long[] w : faultWindows) {
        if (atMs >= w[0] - 1_000 && atMs <= w[1] + 15_000) {
          return true;
        }
      }
      return false;
    }

    private String statusCounts() throws Exception {
      StringBuilder sb = new StringBuilder();
      try (Connection c = connect();
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT status, count(*) FROM ferry.jobs GROUP BY status ORDER BY status")) {
        while (rs.next()) {
          sb.append(sb.isEmpty() ? "" : ", ")
              .append(rs.getString(1))
              .append('=')
              .append(rs.getLong(2));
        }
      }
      return sb.toString();
    }

    private Connection connect() throws Exception {
      return DriverManager.getConnection(db.url(), db.user(), db.password());
    }

    private long count(String sql) throws Exception {
      try (Connection c = connect();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }

    private long countIds(String sql, List<UUID> ids) throws Exception {
      try (Connection c = connect();
          PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    }

    private final AtomicBoolean tornDown = new AtomicBoolean();

    private void tearDown() {
      if (!tornDown.compareAndSet(false, true)) {
        return;
      }
      for (Proc p : procs.values()) {
        if (p.process != null) {
          p.process.destroyForcibly();
        }
      }
      if (producer != null) {
        producer.close(Duration.ofSeconds(2));
      }
      if (service != null) {
        service.stop(0);
      }
      if (kafka != null) {
        kafka.close();
      }
      if (postgres != null) {
        postgres.close();
      }
    }
  }
}
