package dev.ferry.bench;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.testkit.LocalCluster;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Shared-breaker reaction: three workers (concurrency 50 each) call one downstream under a steady
 * load; the downstream dies, the breaker trips, the downstream comes back, the breaker closes;
 * repeated {@code cycles} times. Per trip: how long after the trip the last call of any replica
 * arrived (trip → all replicas stopped), and how many calls arrived after the trip.
 */
public final class BreakerBench {
  /** Parameters. */
  public record Options(int cycles, int ratePerSecond) {}

  /** Figures. */
  public record Result(
      int trips,
      double stopP50Ms,
      double stopP99Ms,
      double stopMaxMs,
      double callsAfterTripAvg,
      long callsAfterTripMax,
      String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=breaker trips=%d stop_p50_ms=%.0f stop_p99_ms=%.0f stop_max_ms=%.0f"
              + " calls_after_trip_avg=%.1f calls_after_trip_max=%d db=%s",
          trips,
          stopP50Ms,
          stopP99Ms,
          stopMaxMs,
          callsAfterTripAvg,
          callsAfterTripMax,
          durability);
    }
  }

  private BreakerBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    ConcurrentLinkedQueue<Instant> calls = new ConcurrentLinkedQueue<>();
    boolean[] down = {false};
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 500);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        ex -> {
          calls.add(Instant.now());
          int status = down[0] ? 503 : 200;
          ex.sendResponseHeaders(status, 2);
          try (OutputStream os = ex.getResponseBody()) {
            os.write("{}".getBytes(StandardCharsets.UTF_8));
          }
        });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/pay";
    String dep = "127.0.0.1:" + server.getAddress().getPort();
    out.println("Starting embedded Kafka, PostgreSQL, 1 orchestrator, 3 workers (concurrency 50)…");
    try (LocalCluster cluster =
        BenchInfra.cluster(
            3,
            c ->
                c.with(Setting.WORKER_CONCURRENCY, "50")
                    .with(Setting.BREAKER_OPEN_MS, "2000")
                    .with(Setting.BREAKER_OPEN_MULTIPLIER, "1")
                    .with(Setting.BREAKER_REPORT_MS, "20"),
            List.of())) {
      FerryConfig config = cluster.config();
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("linger.ms", "2");
      String topic = Topics.withPrefix(config.topicPrefix()).submit();
      boolean[] running = {true};
      Sends sends = new Sends();
      java.util.concurrent.atomic.AtomicReference<RuntimeException> loadFailed =
          new java.util.concurrent.atomic.AtomicReference<>();
      Thread load =
          Thread.ofPlatform()
              .name("bench-load")
              .start(
                  () -> {
                    try (KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(
                            p, new ByteArraySerializer(), new ByteArraySerializer())) {
                      long start = System.nanoTime();
                      long sent = 0;
                      while (running[0]) {
                        long due = (long) ((System.nanoTime() - start) / 1e9 * o.ratePerSecond());
                        for (; sent < due; sent++) {
                          String json =
                              "{\"id\":\""
                                  + UUID.randomUUID()
                                  + "\",\"type\":\"http\",\"maxAttempts\":100,"
                                  + "\"payload\":{\"url\":\""
                                  + url
                                  + "\"}}";
                          sends.send(
                              producer,
                              new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
                        }
                        try {
                          // Pacing the offered load.
                          TimeUnit.MILLISECONDS.sleep(10);
                        } catch (InterruptedException e) {
                          return;
                        }
                      }
                      sends.flush(producer);
                    } catch (RuntimeException e) {
                      loadFailed.set(e);
                    }
                  });
      List<Double> stops = new ArrayList<>();
      List<Double> propagations = new ArrayList<>();
      List<Long> after = new ArrayList<>();
      try (Connection db = cluster.connect()) {
        out.println("Warming up for 10 s…");
        TimeUnit.SECONDS.sleep(10);
        for (int cycle = 1; cycle <= o.cycles(); cycle++) {
          long gen = generation(db, dep);
          down[0] = true;
          Instant opened = awaitState(db, dep, "OPEN", gen, Duration.ofSeconds(30));
          // Let the open period run almost to its end, then look at who still called.
          TimeUnit.MILLISECONDS.sleep(1500);
          Instant probeEnd = Instant.now();
          List<Instant> late =
              calls.stream().filter(t -> t.isAfter(opened) && t.isBefore(probeEnd)).toList();
          // The trip is visible from its commit; the replica that made it learns first, the
          // others through LISTEN/NOTIFY. Propagation = last replica to learn − first.
          Instant first = null;
          Instant last = null;
          for (var w : cluster.workers()) {
            Instant learned = w.breakers().learnedAt(dep);
            if (learned != null && !learned.isBefore(opened)) {
              first = first == null || learned.isBefore(first) ? learned : first;
              last = last == null || learned.isAfter(last) ? learned : last;
            }
          }
          // Trip → every replica stopped: the last call any replica let through after the trip
          // became visible (its commit, when the first replica learned of it).
          double stop = 0;
          for (var w : cluster.workers()) {
            Instant lastCall = w.breakers().lastCallAt(dep);
            if (first != null && lastCall != null && lastCall.isAfter(first)) {
              stop = Math.max(stop, Duration.between(first, lastCall).toMillis());
            }
          }
          double propagation = first == null ? -1 : Duration.between(first, last).toMillis();
          propagations.add(propagation);
          stops.add(stop);
          after.add((long) late.size());
          down[0] = false;
          awaitState(db, dep, "CLOSED", generation(db, dep), Duration.ofSeconds(60));
          out.printf(
              "  trip %d: every replica stopped calling %.0f ms after the trip (all knew of"
                  + " it after %.0f ms); %d calls reached the service after the trip began%n",
              cycle, stop, propagation, late.size());
        }
      } finally {
        running[0] = false;
        load.join();
        server.stop(0);
      }
      if (loadFailed.get() != null) {
        throw loadFailed.get();
      }
      List<Double> sorted = stops.stream().sorted().toList();
      List<Double> prop = propagations.stream().sorted().toList();
      out.printf(
          "Propagation of the trip to every replica: p50 %.0f ms, max %.0f ms%n",
          prop.get(prop.size() / 2), prop.get(prop.size() - 1));
      String durability;
      try (Connection c = cluster.connect()) {
        durability = BenchInfra.describe(c);
      }
      return new Result(
          stops.size(),
          sorted.get(sorted.size() / 2),
          sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1),
          sorted.get(sorted.size() - 1),
          after.stream().mapToLong(Long::longValue).average().orElse(0),
          after.stream().mapToLong(Long::longValue).max().orElse(0),
          durability);
    }
  }

  private static long generation(Connection db, String dep) throws Exception {
    try (PreparedStatement ps =
        db.prepareStatement("SELECT generation FROM ferry.circuit_breakers WHERE dependency = ?")) {
      ps.setString(1, dep);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  private static Instant awaitState(
      Connection db, String dep, String state, long afterGeneration, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT state, generation, state_since FROM ferry.circuit_breakers WHERE dependency = ?")) {
        ps.setString(1, dep);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && rs.getString(1).equals(state) && rs.getLong(2) > afterGeneration) {
            return rs.getTimestamp(3).toInstant();
          }
        }
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new IllegalStateException(
        "breaker for " + dep + " did not become " + state + " in " + timeout);
  }
}
