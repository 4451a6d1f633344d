package dev.ferry.devtools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
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
}
