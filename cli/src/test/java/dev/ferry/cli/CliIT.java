package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The ferry command line against real Kafka and Postgres. */
@ExtendWith(FerryExtension.class)
class CliIT {
  private static Harness.Run run(String... args) {
    return Harness.cli(args);
  }

  private static List<String> flags(FerryConfig c) {
    List<String> f = new ArrayList<>();
    for (Setting s :
        List.of(
            Setting.KAFKA_BOOTSTRAP_SERVERS,
            Setting.DB_URL,
            Setting.DB_USER,
            Setting.DB_PASSWORD,
            Setting.TOPIC_PREFIX,
            Setting.TOPIC_PARTITIONS)) {
      f.add(s.flag() + "=" + c.get(s));
    }
    return f;
  }

  private static String[] cmd(String name, FerryConfig c, String... rest) {
    List<String> a = new ArrayList<>();
    a.add(name);
    a.addAll(flags(c));
    a.addAll(List.of(rest));
    return a.toArray(String[]::new);
  }

  @Test
  void console_refusesAnotherAddressWithoutAToken_andATakenPort(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.Run open = run(cmd("console", config, "--host", "0.0.0.0", "--port", "0"));
    assertThat(open.exit()).isEqualTo(2);
    assertThat(open.err()).contains("without authentication").contains("console.auth.token");
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Harness.Run busy =
          run(cmd("console", config, "--port", String.valueOf(taken.getLocalPort())));
      assertThat(busy.exit()).isEqualTo(2);
      assertThat(busy.err()).contains("cannot listen on");
    }
  }

  @Test
  void submitStatusJobsAndMigrate_workAgainstRealServers(FerryTestEnv env) {
    FerryConfig config = env.config();
    assertThat(run(cmd("migrate", config)).out()).contains("Schema ferry is up to date.");
    Harness.orchestrator(env, config);
    Harness.worker(env, config);

    Harness.Run submitted =
        run(cmd("submit", config, "--type", "echo", "--payload", "{\"from\":\"cli\"}"));
    assertThat(submitted.exit()).isZero();
    UUID id = UUID.fromString(submitted.out().strip());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));

    Harness.Run status = run(cmd("status", config, id.toString()));
    assertThat(status.exit()).isZero();
    assertThat(status.out()).contains("status:", "SUCCEEDED", "{\"from\": \"cli\"}", "Attempts:");
    Harness.Run jobs = run(cmd("jobs", config, "--status", "SUCCEEDED"));
    assertThat(jobs.out()).contains(id.toString()).contains("(1 jobs)");
    assertThat(run(cmd("status", config, UUID.randomUUID().toString())).exit()).isEqualTo(1);
  }

  @Test
  void statusAndJobs_printOneJsonDocument_forScripts(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    Harness.Run submitted =
        run(
            cmd(
                "submit",
                config,
                "--type",
                "echo",
                "--payload",
                "{\"from\":\"json\",\"n\":[1,2]}"));
    UUID id = UUID.fromString(submitted.out().strip());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));

    Harness.Run status = run(cmd("status", config, id.toString(), "--output", "json"));
    assertThat(status.exit()).as(status.err()).isZero();
    JsonNode doc = FerryJson.MAPPER.readTree(status.out());
    assertThat(doc.path("job").path("id").asText()).isEqualTo(id.toString());
    assertThat(doc.path("job").path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(doc.path("job").path("attempts").isNumber()).isTrue();
    assertThat(doc.path("job").path("payload").path("n").get(1).asInt())
        .as("the payload is JSON, not text")
        .isEqualTo(2);
    assertThat(doc.path("job").path("created_at").asText()).endsWith("Z");
    assertThat(doc.path("attempts").isArray()).isTrue();
    assertThat(doc.path("attempts")).hasSize(1);
    assertThat(doc.path("attempts").get(0).path("attempt").asInt()).isEqualTo(1);

    Harness.Run jobs = run(cmd("jobs", config, "--type", "echo", "--output", "json"));
    assertThat(jobs.exit()).as(jobs.err()).isZero();
    JsonNode list = FerryJson.MAPPER.readTree(jobs.out()).path("jobs");
    assertThat(list.isArray()).isTrue();
    assertThat(list).anySatisfy(j -> assertThat(j.path("id").asText()).isEqualTo(id.toString()));

    Harness.Run missing =
        run(cmd("status", config, UUID.randomUUID().toString(), "--output", "json"));
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.out()).isEmpty();
  }

  @Test
  void submit_rejectsInvalidInputBeforeSending(FerryTestEnv env) {
    Harness.Run r = run(cmd("submit", env.config(), "--type", "echo", "--max-attempts", "0"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("field 'maxAttempts' must be between 1");
  }

  @Test
  void badConfiguration_namesTheSetting() {
    Harness.Run r = run("worker", "--worker-concurrency", "lots");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("worker.concurrency / FERRY_WORKER_CONCURRENCY / --worker-concurrency")
        .contains("'lots'");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "orchestrator",
        "worker",
        "migrate",
        "submit",
        "status",
        "jobs",
        "cancel",
        "retry",
        "breakers",
        "roles",
        "completion"
      })
  void everyCommand_hasHelp(String command) {
    Harness.Run r = run(command, "--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("Usage: ferry " + command);
  }

  @Test
  void help_neverShowsThePassword() {
    Harness.Run r = run("worker", "--db-password", "hunter2", "--help");
    assertThat(r.out()).doesNotContain("hunter2");
  }
}
