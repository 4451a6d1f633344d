package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A downstream outage with three worker replicas sharing one breaker. */
@ExtendWith(FerryExtension.class)
class BreakerIT {

  /** A downstream that can be switched down and up; records when each request arrived. */
  static final class Downstream implements AutoCloseable {
    final ConcurrentLinkedQueue<Instant> calls = new ConcurrentLinkedQueue<>();
    volatile boolean up;
    final HttpServer server;

    Downstream() throws Exception {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      server.createContext(
          "/",
          ex -> {
            calls.add(Instant.now());
            int status = up ? 200 : 503;
            byte[] body = "{}".getBytes();
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(body);
            }
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/call";
    }

    String dependency() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    long callsBetween(Instant from, Instant to) {
      return calls.stream().filter(t -> !t.isBefore(from) && t.isBefore(to)).count();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  @Test
  void outage_opensTheSharedBreaker_callsStop_trialsAreLimited_andEveryJobSucceeds(FerryTestEnv env)
      throws Exception {
    Downstream downstream = env.closeAfter(new Downstream());
    FerryConfig config =
        env.config()
            .with(Setting.WORKER_CONCURRENCY, "10")
            .with(Setting.BREAKER_MINIMUM_CALLS, "5")
            .with(Setting.BREAKER_WINDOW_SIZE, "10")
            .with(Setting.BREAKER_OPEN_MS, "2000")
            .with(Setting.BREAKER_HALF_OPEN_CALLS, "2")
            .with(Setting.BREAKER_REPORT_MS, "20")
            .with(Setting.BACKOFF_INITIAL_MS, "100")
            .with(Setting.BACKOFF_JITTER, "0");
    Harness.orchestrator(env, config);
    List<dev.ferry.worker.Worker> workers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      workers.add(Harness.worker(env, config.with(Setting.WORKER_ID, "w" + i)));
    }
    // Start once the group is settled, so no work item is redelivered by a start-up rebalance
    // (duplicate runs are allowed around rebalances; this test counts every call).
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                workers.stream().allMatch(w -> w.pollLoop().assignedPartitions() > 0)
                    && workers.stream().mapToInt(w -> w.pollLoop().assignedPartitions()).sum()
                        == 8); // 4 of the work topic, 4 of the urgent one
    List<UUID> ids = new ArrayList<>();
    var producer = env.rawProducer();
    for (int i = 0; i < 60; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      String json =
          "{\"id\":\""
              + id
              + "\",\"type\":\"http\",\"maxAttempts\":10,"
              + "\"payload\":{\"url\":\""
              + downstream.url()
              + "\"}}";
      var unused =
          producer.send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  Topics.withPrefix(config.topicPrefix()).submit(), json.getBytes()));
    }
    producer.flush();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.circuit_breakers WHERE state = 'OPEN'")
                    == 1);
    downstream.up = true;
    for (UUID id : ids) {
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    }

    // Transitions, from the breaker events on the events topic.
    List<ConsumerRecord<byte[], byte[]>> records =
        Harness.readTopic(env, Topics.withPrefix(config.topicPrefix()).events(), 1_000);
    List<JsonNode> transitions = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      JsonNode n = FerryJson.MAPPER.readTree(r.value());
      if (n.has("breaker")) {
        transitions.add(n);
      }
    }
    assertThat(transitions).isNotEmpty();
    assertThat(transitions)
        .allSatisfy(n -> assertThat(n.path("breaker").asText()).isEqualTo(downstream.dependency()));
    List<String> states = transitions.stream().map(n -> n.path("to").asText()).toList();
    // OPEN, then (HALF_OPEN, OPEN)* while trials fail, then HALF_OPEN, CLOSED.
    assertThat(String.join(",", states)).matches("OPEN(,HALF_OPEN,OPEN)*,HALF_OPEN,CLOSED");
    for (int i = 0; i + 1 < transitions.size(); i++) {
      Instant from = Instant.parse(transitions.get(i).path("at").asText());
      Instant to = Instant.parse(transitions.get(i + 1).path("at").asText());
      if (states.get(i).equals("OPEN")) {
        // While OPEN no replica calls (a short grace for calls admitted just before the trip).
        assertThat(downstream.callsBetween(from.plusMillis(200), to))
            .as("calls while OPEN from %s to %s", from, to)
            .isZero();
      } else {
        // In HALF_OPEN at most the permitted trial calls, across all three replicas.
        assertThat(downstream.callsBetween(from, to)).as("trial calls").isLessThanOrEqualTo(2);
      }
    }
    // Deferred runs give their attempt back: every attempt used is one real call.
    assertThat(Harness.count(env.dataSource(), "SELECT sum(attempts) FROM ferry.jobs"))
        .isEqualTo(downstream.calls.size());
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.job_attempts WHERE outcome = 'FAILED'"))
        .as("failed attempts = calls made while the service was down")
        .isEqualTo(downstream.calls.size() - ids.size());
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.circuit_breakers WHERE state = 'CLOSED'"))
        .isEqualTo(1);
  }

  @Test
  void forcedOpen_holdsJobsBack_andReset_letsThemRun(FerryTestEnv env) throws Exception {
    Downstream downstream = env.closeAfter(new Downstream());
    downstream.up = true;
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    String[] flags = {
      "--db-url=" + env.database().url(),
      "--db-user=" + env.database().user(),
      "--db-password=" + env.database().password()
    };
    Harness.Run open =
        Harness.cli(concat(new String[] {"breakers", "open", downstream.dependency()}, flags));
    assertThat(open.exit()).isZero();
    assertThat(open.out()).contains("is now OPEN").contains("(forced)");

    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + id
            + "\",\"type\":\"http\","
            + "\"payload\":{\"url\":\""
            + downstream.url()
            + "\"}}");
    await().atMost(Duration.ofSeconds(30)).until(() -> Harness.job(env.dataSource(), id) != null);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> "PENDING".equals(Harness.status(env.dataSource(), id)));
    assertThat(downstream.calls).isEmpty();
    Harness.Run list = Harness.cli(concat(new String[] {"breakers"}, flags));
    assertThat(list.out()).contains(downstream.dependency()).contains("OPEN");

    Harness.Run reset =
        Harness.cli(concat(new String[] {"breakers", "reset", downstream.dependency()}, flags));
    assertThat(reset.out()).contains("is now CLOSED");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    assertThat(downstream.calls).hasSize(1);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
