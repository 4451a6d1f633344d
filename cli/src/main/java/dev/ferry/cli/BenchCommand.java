package dev.ferry.cli;

import dev.ferry.bench.RetryLagBench;
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
        "Scenarios:",
        "  floor       the same N jobs through a bare Kafka + PostgreSQL pipeline (3 hops,",
        "              batched unnest writes, no features): the reference on this machine",
        "  throughput  N noop jobs through ferry.submit until all are SUCCEEDED",
        "              (--with-floor runs floor first and prints the ratio)",
        "  latency     --rate noop jobs/s for --seconds after --warmup-s: submit→start/done",
        "  retry-lag   a steady rate of jobs, a share failing once: how late retries start",
        "  breaker     3 workers, a downstream that dies and recovers: trip → all replicas stopped",
        "  fanout      one parent × --children noop children until the parent is SUCCEEDED"})
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

  @Option(names = "--rate", defaultValue = "500", description = "latency, retry-lag, breaker: jobs per second (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(names = "--children", defaultValue = "100000", description = "fanout: children of the parent (default ${DEFAULT-VALUE}).")
  int children;

  @Option(names = "--cycles", defaultValue = "10", description = "breaker: outages to run (default ${DEFAULT-VALUE}).")
  int cycles;

  @Option(names = "--seconds", defaultValue = "30", description = "latency, retry-lag: how long to submit (default ${DEFAULT-VALUE}).")
  int seconds;

  @Option(names = "--warmup-s", defaultValue = "10", description = "latency, retry-lag: unmeasured warm-up at the same rate (default ${DEFAULT-VALUE}).")
  int warmupS;

  @Option(names = "--fail-share", defaultValue = "0.3", description = "retry-lag: share failing once (default ${DEFAULT-VALUE}).")
  double failShare;

  @Option(names = "--backoff-ms", defaultValue = "500", description = "retry-lag: retry delay (default ${DEFAULT-VALUE}).")
  int backoffMs;

  @Option(names = "--with-floor", description = "throughput: run the floor scenario first and print throughput / floor.")
  boolean withFloor;

  @Option(names = "--timeout-s", defaultValue = "900", description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  @Override
  public Integer call() throws Exception {
    if (scenario.equals("fanout")) {
      System.out.println(dev.ferry.bench.FanoutBench.run(children, concurrency, System.out).line());
      return 0;
    }
    if (scenario.equals("breaker")) {
      System.out.println(dev.ferry.bench.BreakerBench.run(
          new dev.ferry.bench.BreakerBench.Options(cycles, rate), System.out).line());
      return 0;
    }
    if (scenario.equals("retry-lag")) {
      if (rate < 1 || seconds < 1 || failShare < 0 || failShare > 1 || backoffMs < 0) {
        throw new IllegalArgumentException("--rate and --seconds must be >= 1, --fail-share in [0, 1]");
      }
      System.out.println(RetryLagBench.run(
          new RetryLagBench.Options(rate, seconds, warmupS, failShare, backoffMs), System.out).line());
      return 0;
    }
    if (scenario.equals("latency")) {
      System.out.println(dev.ferry.bench.LatencyBench.run(
          new dev.ferry.bench.LatencyBench.Options(rate, seconds, warmupS), System.out).line());
      return 0;
    }
    if (scenario.equals("floor")) {
      System.out.println(dev.ferry.bench.FloorBench.run(
          new dev.ferry.bench.FloorBench.Options(jobs, partitions, Duration.ofSeconds(timeoutS)),
          System.out).line());
      return 0;
    }
    if (!scenario.equals("throughput")) {
      throw new IllegalArgumentException("unknown scenario '" + scenario
          + "' (known: floor, throughput, latency, retry-lag, breaker, fanout)");
    }
    dev.ferry.bench.FloorBench.Result floor = null;
    if (withFloor) {
      floor = dev.ferry.bench.FloorBench.run(
          new dev.ferry.bench.FloorBench.Options(jobs, partitions, Duration.ofSeconds(timeoutS)),
          System.out);
      System.out.println(floor.line());
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
    if (floor != null) {
      System.out.printf(java.util.Locale.ROOT,
          "RESULT scenario=throughput-vs-floor ratio=%.2f throughput_jobs_per_s=%.0f floor_jobs_per_s=%.0f db=%s%n",
          r.jobsPerSecond() / floor.jobsPerSecond(), r.jobsPerSecond(), floor.jobsPerSecond(),
          r.durability());
    }
    return 0;
  }
}
