package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets stay secret: an orchestrator and a worker (separate JVMs, as users run them) read the
 * database password from {@code FERRY_DB_PASSWORD_FILE} and get a SASL JAAS setting with a
 * password; a job runs through them; neither secret appears in their logs or in {@code --help}.
 */
@ExtendWith(FerryExtension.class)
class SecretsIT {
  @TempDir Path dir;

  @Test
  void passwordsAndJaasSettings_neverAppearInLogsOrHelp(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    // A password no other text contains. The embedded database trusts loopback, so any
    // password works; an external one must be given its real password.
    String dbSecret = "db-" + UUID.randomUUID();
    if (!accepts(env, dbSecret)) {
      dbSecret = env.database().password();
      assertThat(dbSecret)
          .as("external database password, to look for in logs")
          .hasSizeGreaterThan(6);
    }
    String jaasSecret = "jaas-" + UUID.randomUUID();
    Path passwordFile = dir.resolve("db-password");
    Files.writeString(passwordFile, dbSecret + "\n");
    Map<String, String> secrets =
        Map.of(
            Setting.DB_PASSWORD_FILE.env(),
            passwordFile.toString(),
            "FERRY_KAFKA_SASL_JAAS_CONFIG",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"ferry\" "
                + "password=\""
                + jaasSecret
                + "\";");

    Path orchestratorLog = dir.resolve("orchestrator.log");
    Path workerLog = dir.resolve("worker.log");
    Path helpLog = dir.resolve("help.log");
    Process orchestrator =
        Harness.ferryProcess(env, config, secrets, orchestratorLog, "orchestrator");
    Process worker =
        Harness.ferryProcess(
            env,
            config,
            Map.of(
                Setting.DB_PASSWORD_FILE.env(),
                passwordFile.toString(),
                "FERRY_KAFKA_SASL_JAAS_CONFIG",
                secrets.get("FERRY_KAFKA_SASL_JAAS_CONFIG"),
                Setting.WORKER_ID.env(),
                "secret-keeper"),
            workerLog,
            "worker");

    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\"" + id + "\",\"type\":\"echo\"," + "\"payload\":{\"hello\":\"world\"}}");
    Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");

    Process help = Harness.ferryProcess(env, config, secrets, helpLog, "worker", "--help");
    assertThat(help.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(help.exitValue()).isZero();
    for (Process p : new Process[] {worker, orchestrator}) {
      p.destroy(); // SIGTERM: a graceful stop, which logs too
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    String orchestratorOut = Files.readString(orchestratorLog, StandardCharsets.UTF_8);
    String workerOut = Files.readString(workerLog, StandardCharsets.UTF_8);
    String helpOut = Files.readString(helpLog, StandardCharsets.UTF_8);
    // The logs did print the configuration and the Kafka clients' settings, masked.
    assertThat(orchestratorOut)
        .contains("Starting orchestrator with")
        .contains("db.password=****")
        .contains("kafka.sasl.jaas.config=****");
    assertThat(workerOut).contains("Starting worker with").contains("db.password=****");
    assertThat(helpOut).contains("--db-password-file");
    for (String out : new String[] {orchestratorOut, workerOut, helpOut}) {
      assertThat(out).doesNotContain(dbSecret).doesNotContain(jaasSecret);
    }
  }

  private static boolean accepts(FerryTestEnv env, String password) {
    try (var c =
        DriverManager.getConnection(env.database().url(), env.database().user(), password)) {
      return c.isValid(5);
    } catch (SQLException e) {
      return false;
    }
  }
}
