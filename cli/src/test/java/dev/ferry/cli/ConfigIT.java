package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad configuration stops a process at start: an orchestrator and a worker (separate JVMs, as users
 * run them) with a bad per-type or per-dependency override exit 2 at once, naming the setting,
 * although Kafka and Postgres are up. Before, the orchestrator found a bad {@code
 * FERRY_TYPE_X_MAX_ATTEMPTS} only at the first job of type x (its intake then stuck) and the worker
 * a bad breaker override only at the first call to that dependency.
 */
@ExtendWith(FerryExtension.class)
class ConfigIT {
  @TempDir Path dir;

  private record Case(String command, String variable, String value) {}

  @Test
  void badOverrides_makeOrchestratorAndWorkerExit2_namingTheSetting(FerryTestEnv env)
      throws Exception {
    List<Case> cases =
        List.of(
            new Case("orchestrator", "FERRY_TYPE_X_MAX_ATTEMPTS", "0"),
            new Case("orchestrator", "FERRY_DEPENDENCY_X_BREAKER_MINIMUM_CALLS", "abc"),
            new Case("worker", "FERRY_TYPE_X_MAX_ATTEMPTS", "0"),
            new Case("worker", "FERRY_DEPENDENCY_X_BREAKER_MINIMUM_CALLS", "abc"));
    List<Process> processes = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    // All at once: four JVMs start in the time of one on a machine with spare cores.
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      Path log = dir.resolve(i + "-" + c.command() + ".log");
      logs.add(log);
      processes.add(
          Harness.ferryProcess(
              env, env.config(), Map.of(c.variable(), c.value()), log, c.command()));
    }
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      Process p = processes.get(i);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(c + " exits promptly").isTrue();
      String out = Files.readString(logs.get(i), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(c + " exit code; output:\n" + out).isEqualTo(2);
      assertThat(out)
          .as(c.toString())
          .contains("ferry: " + c.variable())
          .contains("but was '" + c.value() + "'")
          .doesNotContain("started");
    }
  }
}
