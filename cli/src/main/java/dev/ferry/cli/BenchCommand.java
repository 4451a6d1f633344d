package dev.ferry.cli;

import dev.ferry.bench.ThroughputBench;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Runs a benchmark and prints one RESULT line.",
        "",
        "Uses embedded Kafka and PostgreSQL (or the external servers named by",
        "FERRY_TEST_KAFKA / FERRY_TEST_DB_URL).",
        "Scenarios: throughput (N noop jobs until all SUCCEEDED)."})
final class BenchCommand implements Callable<Integer> {
  @Parameters(paramLabel = "SCENARIO", defaultValue = "throughput",
      description = "Scenario to run (default ${DEFAULT-VALUE}).")
  String scenario;

  @Option(names = "--jobs", defaultValue = "100000", description = "Jobs (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = "--workers", defaultValue = "1", description = "Worker replicas (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--concurrency", defaultValue = "256", description = "Per-worker concurrency (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--partitions", defaultValue = "12", description = "Partitions per topic (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--timeout-s", defaultValue = "900", description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  @Override
  public Integer call() throws Exception {
    if (!scenario.equals("throughput")) {
      throw new IllegalArgumentException("unknown scenario '" + scenario + "' (known: throughput)");
    }
    if (jobs < 1 || workers < 1 || concurrency < 1 || partitions < 1) {
      throw new IllegalArgumentException("--jobs, --workers, --concurrency and --partitions must be >= 1");
    }
    ThroughputBench.Result r =
        ThroughputBench.run(
            new ThroughputBench.Options(jobs, workers, concurrency, partitions,
                Duration.ofSeconds(timeoutS)),
            System.out);
    System.out.println(r.line());
    return 0;
  }
}
