package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scrapes {@code /metrics} of a running orchestrator and worker before and after a mix of jobs
 * (successes, failures, retries, rejections, a dependency whose breaker trips) and checks that
 * Ferry's own meters moved by what happened, and that the JVM, Kafka client and HikariCP meters are
 * there.
 */
@ExtendWith(FerryExtension.class)
class MetricsIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** Fails its first attempt (retryable), succeeds after. */
  static final class FlakyOnce implements JobHandler {
    @Override
    public String type() {
      return "flaky-once";
    }

    @Override
    public JobResult handle(JobContext context) {
      return context.attempt() == 1
          ? JobResult.retry("first attempt fails")
          : JobResult.success(null);
    }
  }

  /** Always fails without retry. */
  static final class Broken implements JobHandler {
    @Override
    public String type() {
      return "broken";
    }

    @Override
    public JobResult handle(JobContext context) {
      return JobResult.fail("broken for good");
    }
  }

  /** Calls a dependency that is down: retryable failures that trip its breaker. */
  static final class DownstreamDown implements JobHandler {
    @Override
    public String type() {
      return "call-down";
    }

    @Override
    public JobResult handle(JobContext context) {
      return JobResult.retry("connection refused");
    }
  }

  @Test
  void metricsEndpoints_showTheRunMovingTheNumbers(FerryTestEnv env) throws Exception {
    FerryConfig config =
        env.config()
            .with(Setting.HEALTH_PORT, "0")
            .with(Setting.WORKER_CONCURRENCY, "16")
            .with(Setting.BREAKER_MINIMUM_CALLS, "3")
            .with(Setting.BREAKER_OPEN_MS, "60000");
    Orchestrator orchestrator = Harness.orchestrator(env, config);
    Worker worker =
        Harness.worker(env, config, new FlakyOnce(), new Broken(), new DownstreamDown());
    String o0 = scrape(orchestrator.healthPort());
    String w0 = scrape(worker.healthPort());

    List<UUID> finishing = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      finishing.add(submit(env, config, "{\"type\":\"noop\"}"));
    }
    for (int i = 0; i < 3; i++) {
      finishing.add(submit(env, config, "{\"type\":\"broken\"}"));
      finishing.add(
          submit(
              env,
              config,
              "{\"type\":\"flaky-once\",\"backoff\":"
                  + "{\"strategy\":\"fixed\",\"initialMs\":50,\"maxMs\":50,\"jitter\":0}}"));
    }
    for (int i = 0; i < 4; i++) {
      submit(
          env,
          config,
          "{\"type\":\"call-down\",\"dependency\":\"down-api\",\"maxAttempts\":9,"
              + "\"backoff\":{\"strategy\":\"fixed\",\"initialMs\":50,\"maxMs\":50,\"jitter\":0}}");
    }
    Harness.submitRaw(env, config, null, "not json at all");
    Harness.submitRaw(env, config, null, "{\"type\":\"noop\",\"maxAttempts\":-1}");
    for (UUID id : finishing) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                String s = Harness.status(env.dataSource(), id);
                return "SUCCEEDED".equals(s) || "FAILED".equals(s);
              });
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.circuit_breakers WHERE dependency = 'down-api'"
                            + " AND state = 'OPEN'")
                    == 1);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> delta(o0, scrape(orchestrator.healthPort()), "ferry_jobs_rejected_total") == 2);

    String o1 = scrape(orchestrator.healthPort());
    String w1 = scrape(worker.healthPort());

    // Orchestrator: jobs by type and fate, batch sizes.
    assertThat(delta(o0, o1, "ferry_jobs_submitted_total", "type=\"noop\"")).isEqualTo(20);
    assertThat(delta(o0, o1, "ferry_jobs_submitted_total", "type=\"call-down\"")).isEqualTo(4);
    assertThat(delta(o0, o1, "ferry_jobs_succeeded_total", "type=\"noop\"")).isEqualTo(20);
    assertThat(delta(o0, o1, "ferry_jobs_succeeded_total", "type=\"flaky-once\"")).isEqualTo(3);
    assertThat(delta(o0, o1, "ferry_jobs_retried_total", "type=\"flaky-once\"")).isEqualTo(3);
    assertThat(delta(o0, o1, "ferry_jobs_failed_total", "type=\"broken\"")).isEqualTo(3);
    assertThat(delta(o0, o1, "ferry_jobs_rejected_total")).isEqualTo(2);
    assertThat(delta(o0, o1, "ferry_intake_batch_size_count")).isPositive();
    assertThat(delta(o0, o1, "ferry_apply_batch_size_count")).isPositive();
    assertThat(delta(o0, o1, "ferry_dispatch_batch_size_count")).isPositive(); // the retries
    assertThat(o1).contains("role=\"orchestrator\"");

    // Worker: attempt durations per type and outcome, poll loop, limits, dependency, breaker.
    assertThat(
            delta(
                w0,
                w1,
                "ferry_attempt_duration_seconds_count",
                "type=\"noop\"",
                "outcome=\"succeeded\""))
        .isEqualTo(20);
    assertThat(
            delta(
                w0,
                w1,
                "ferry_attempt_duration_seconds_count",
                "type=\"flaky-once\"",
                "outcome=\"failed_retryable\""))
        .isEqualTo(3);
    assertThat(
            delta(
                w0,
                w1,
                "ferry_attempt_duration_seconds_bucket",
                "type=\"noop\"",
                "outcome=\"succeeded\""))
        .isPositive();
    assertThat(delta(w0, w1, "ferry_worker_poll_interval_seconds_count")).isPositive();
    assertThat(value(w1, "ferry_worker_concurrency_limit")).isEqualTo(16);
    assertThat(w1).contains("ferry_worker_in_flight{").contains("ferry_worker_lag{");
    assertThat(w1)
        .contains("ferry_dependency_in_flight{")
        .contains("ferry_dependency_concurrency_limit{");
    assertThat(value(w1, "ferry_breaker_state", "dependency=\"down-api\"")).isEqualTo(2);
    assertThat(
            value(w1, "ferry_breaker_transitions_total", "dependency=\"down-api\"", "to=\"OPEN\""))
        .isGreaterThanOrEqualTo(1);

    // The binders: JVM, Kafka clients (consumer lag per topic), HikariCP.
    for (String scrape : List.of(o1, w1)) {
      assertThat(scrape)
          .contains("jvm_memory_used_bytes{")
          .contains("hikaricp_connections{")
          .contains("kafka_consumer_fetch_manager_records_lag");
    }
  }

  private static UUID submit(FerryTestEnv env, FerryConfig config, String json) throws Exception {
    UUID id = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + id + "\"," + json.substring(1));
    return id;
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    return r.body();
  }

  /** The sum of every sample of a metric whose labels contain all the given pairs. */
  static double value(String scrape, String name, String... labels) {
    double sum = 0;
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  static double delta(String before, String after, String name, String... labels) {
    return value(after, name, labels) - value(before, name, labels);
  }
}
