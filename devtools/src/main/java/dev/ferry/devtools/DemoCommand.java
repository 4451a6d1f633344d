package dev.ferry.devtools;

import dev.ferry.core.config.Setting;
import dev.ferry.testkit.LocalCluster;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a self-contained demo (embedded Kafka, Postgres, orchestrator, workers).",
      "",
      "Starts a Kafka broker, PostgreSQL, an orchestrator, two workers and a flaky HTTP",
      "service on loopback; submits a few hundred jobs of every built-in type (some failing",
      "transiently, some for good, some invalid), shows live progress and a summary read",
      "from the database. Exits 0 when every job ended as expected.",
      "",
      "With --console, serves the console (http://127.0.0.1:9500/) during the demo and keeps the",
      "stack and the console up afterwards until Ctrl-C."
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--timeout-s",
      defaultValue = "180",
      description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  @Option(
      names = "--console",
      description =
          "Serve the console while the demo runs, and keep the stack and the console up"
              + " after it until Ctrl-C.")
  boolean console;

  @Option(
      names = "--console-port",
      defaultValue = "9500",
      description = "Port of the console on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 = any free).")
  int consolePort;

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    System.out.println(
        "Ferry demo: starting embedded Kafka, PostgreSQL, an orchestrator and two workers…");
    try (CtrlC ctrlC = console ? new CtrlC() : null;
        FlakyServer http = new FlakyServer();
        FlakyServer payments = new FlakyServer();
        LocalCluster cluster =
            LocalCluster.start(
                "ferry_demo",
                2,
                c ->
                    c.with(Setting.TOPIC_PARTITIONS, "6")
                        .with(Setting.WORKER_CONCURRENCY, "32")
                        .with(Setting.BACKOFF_INITIAL_MS, "200")
                        .with(Setting.BACKOFF_MAX_MS, "2000")
                        .with(Setting.BREAKER_OPEN_MS, "3000")
                        .with(Setting.BREAKER_REPORT_MS, "20"),
                List.of());
        Connection db = cluster.connect();
        Demo demo = new Demo(cluster.config(), db, timeoutS);
        ConsoleHold ui = console ? ConsoleHold.start(cluster.config(), consolePort) : null) {
      System.out.printf(
          "Ready in %.1f s. Downstream service at %s%n", Demo.secs(t0), http.baseUrl());
      if (ui != null) {
        System.out.println("Console: " + ui.url() + "  (watch the demo there)");
      }
      boolean ok =
          MixedJobsPart.run(demo, http, t0)
              && OutagePart.run(demo, payments)
              && FanOutPart.run(demo, http);
      if (ok) {
        System.out.println(
            "Try: SELECT id, status, attempts, last_error FROM ferry.jobs WHERE status = 'FAILED';");
      }
      if (ctrlC != null) {
        System.out.println();
        System.out.println(
            "The demo's stack and console stay up: " + ui.url() + "  (Ctrl-C stops them)");
        ctrlC.await();
      }
      return ok ? 0 : 1;
    }
  }
}
