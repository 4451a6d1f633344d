package dev.ferry.devtools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code ferry demo} as a user runs it: the runtime jar plus the development classpath. */
class DemoIT {
  @Test
  void demo_runsEveryPartAndExitsZero() throws Exception {
    DevCli.Run r =
        DevCli.runtimeJar(Map.of(DevCli.DEV_CLASSPATH_ENV, DevCli.devClasspath()), 600, "demo");
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out())
        .contains("Submitted 425 jobs (+5 invalid records that must be rejected).")
        .containsPattern(
            "400 succeeded \\(\\d+ after transient failures\\), 25 failed as expected, 5 rejected")
        .contains("All 100 payments succeeded")
        .containsPattern("Aggregate: total 300, succeeded 300, failed 0");
  }
}
