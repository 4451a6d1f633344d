package dev.ferry.devtools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runtime jar ({@code ferry.jar} and its {@code lib/}, as the Docker image ships it) carries no
 * embedded Kafka or PostgreSQL: {@code demo}, {@code dev} and {@code bench} load from the
 * development classpath, and say so when it is missing.
 */
class DevToolsIT {
  @ParameterizedTest
  @ValueSource(strings = {"demo", "dev", "bench"})
  void runtimeJar_loadsTheDevelopmentTools(String command) throws Exception {
    DevCli.Run r =
        DevCli.runtimeJar(
            Map.of(DevCli.DEV_CLASSPATH_ENV, DevCli.devClasspath()), 60, command, "--help");
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).contains("Usage: ferry " + command);
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo", "dev", "bench"})
  void runtimeJar_withoutTheDevelopmentTools_saysWhatIsMissing(String command) throws Exception {
    DevCli.Run r =
        DevCli.runtimeJar(
            Map.of(DevCli.DEV_CLASSPATH_ENV, "/nonexistent/ferry-devtools"), 60, command);
    assertThat(r.exit()).as(r.out()).isEqualTo(2);
    assertThat(r.out())
        .contains("'ferry " + command + "' needs Ferry's development tools")
        .contains("./ferry " + command)
        .contains("FERRY_DEV_CLASSPATH");
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo", "dev", "bench"})
  void inProcess_helpNamesTheCommand(String command) {
    DevCli.Run r = DevCli.run(command, "--help");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("Usage: ferry " + command);
  }

  @Test
  void dev_servesTheConsoleUntilStopped() throws Exception {
    DevCli.Started dev =
        DevCli.startRuntimeJar(
            Map.of(DevCli.DEV_CLASSPATH_ENV, DevCli.devClasspath()), "dev", "--console-port", "0");
    try {
      Pattern console = Pattern.compile("Console: (http://127\\.0\\.0\\.1:[0-9]+/)");
      String[] url = new String[1];
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                Matcher m = console.matcher(Files.readString(dev.log()));
                if (m.find()) {
                  url[0] = m.group(1);
                }
                return url[0] != null || !dev.process().isAlive();
              });
      assertThat(url[0]).as(Files.readString(dev.log())).isNotNull();
      HttpResponse<String> stats =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(url[0] + "api/stats")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(stats.statusCode()).isEqualTo(200);
      assertThat(stats.body()).contains("\"byStatus\"");
      dev.process().destroy(); // SIGTERM, as Ctrl-C
      assertThat(dev.process().waitFor(60, TimeUnit.SECONDS))
          .as("stops on SIGTERM: %s", Files.readString(dev.log()))
          .isTrue();
    } finally {
      dev.process().destroyForcibly();
    }
  }
}
