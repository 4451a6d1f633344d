package dev.ferry.devtools;

import dev.ferry.bench.BacklogBench;
import dev.ferry.bench.BenchInfra;
import dev.ferry.bench.BreakerBench;
import dev.ferry.bench.ConcurrencyBench;
import dev.ferry.bench.FanoutBench;
import dev.ferry.bench.FloorBench;
import dev.ferry.bench.LatencyBench;
import dev.ferry.bench.RetentionBench;
import dev.ferry.bench.RetryLagBench;
import dev.ferry.bench.ThroughputBench;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a benchmark and prints one RESULT line of key=value figures.",
      "",
      "The line also names the database durability the benchmark ran with.",
      "Uses embedded Kafka and PostgreSQL (or the external servers named by",
      "FERRY_TEST_KAFKA / FERRY_TEST_DB_URL).",
      "Scenarios:",
      "  floor        N jobs through a bare Kafka + PostgreSQL pipeline (3 hops,",
      "               batched writes, no features): the reference on this machine",
      "  throughput   N noop jobs through ferry.submit until all are SUCCEEDED",
      "               (--with-floor runs floor first and prints the ratio)",
      "  latency      --rate noop jobs/s for --seconds after --warmup-s:",
      "               submit->start and submit->done percentiles",
      "  retry-lag    a steady rate, a share failing once: how late retries start",
      "  breaker      3 workers, a downstream that dies and recovers:",
      "               trip -> every replica stopped calling",
      "  fanout       one parent x --children noop children until it SUCCEEDED",
      "  concurrency  N sleep jobs (--sleep-ms) on one worker JVM at concurrency N:",
      "               jobs/s end to end (submitted while it runs) and in a burst",
      "               (N jobs due at one moment), and its heap (--heap-mb, default 512)",
      "  backlog      N noop jobs queued before one worker JVM (--concurrency,",
      "               default 100; --heap-mb, default 256) drains them: its memory",
      "  retention    --seeded finished jobs 30 days old; --jobs noop jobs without,",
      "               then with retention deleting them: the slowdown",
      "  console      --jobs realistic jobs (default 1000000) seeded into PostgreSQL,",
      "               then every console page and API call timed (--requests each,",
      "               sequential, after 20 warm-up): p50 / p99 / max per path",
      "  schedules    one every-second schedule: tick -> start lag for --seconds after",
      "               --warmup-s (default 5), missing or duplicate ticks; then --schedules",
      "               schedules (default 10000) on one --cron (default: second 0 of every",
      "               minute): jobs per tick and the spread of their starts, 2 ticks",
      "  flow         priorities, keys and rate limits on 1 worker of 8 slots: 20 urgent",
      "               jobs behind --jobs (default 20000) queued sleep(20 ms) jobs, start",
      "               p50/p99; 1000 keys x limit 1 (10 jobs each) against as many",
      "               unconstrained jobs; 2000 jobs of a dependency limited to 200/1s:",
      "               achieved rate and worst 1 s window",
      ""
    })
public final class BenchCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "SCENARIO",
      defaultValue = "throughput",
      description = "Scenario to run (default ${DEFAULT-VALUE}).")
  String scenario;

  @Option(
      names = "--jobs",
      description = "Jobs (default: 100000; concurrency 10000; backlog, console 1000000).")
  Integer jobs;

  @Option(
      names = "--workers",
      defaultValue = "1",
      description = "throughput: worker replicas (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--concurrency",
      description = "Per-worker concurrency (default: 256; concurrency: --jobs; backlog: 100).")
  Integer concurrency;

  @Option(
      names = "--partitions",
      defaultValue = "12",
      description = "Partitions per topic (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--rate",
      defaultValue = "500",
      description = "latency, retry-lag, breaker: jobs per second (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--seeded",
      defaultValue = "1000000",
      description = "retention: old finished jobs to delete (default ${DEFAULT-VALUE}).")
  int seeded;

  @Option(
      names = "--children",
      defaultValue = "100000",
      description = "fanout: children of the parent (default ${DEFAULT-VALUE}).")
  int children;

  @Option(
      names = "--cycles",
      defaultValue = "10",
      description = "breaker: outages to run (default ${DEFAULT-VALUE}).")
  int cycles;

  @Option(
      names = "--seconds",
      defaultValue = "30",
      description =
          "latency, retry-lag: how long to submit; schedules: every-second ticks measured"
              + " (default ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--warmup-jobs",
      defaultValue = "1000",
      description =
          "floor, throughput: unmeasured jobs first, for the JIT (default ${DEFAULT-VALUE}).")
  int warmupJobs;

  @Option(
      names = "--warmup-s",
      description =
          "latency, retry-lag: unmeasured warm-up at the same rate (default 10); schedules:"
              + " unmeasured ticks of the every-second schedule (default 5).")
  Integer warmupS;

  @Option(
      names = "--schedules",
      defaultValue = "10000",
      description = "schedules: schedules firing on one tick (default ${DEFAULT-VALUE}).")
  int schedules;

  @Option(
      names = "--cron",
      defaultValue = "0 * * * * *",
      description =
          "schedules: the cron of the --schedules schedules (default '${DEFAULT-VALUE}',"
              + " second 0 of every minute).")
  String cron;

  @Option(
      names = "--orchestrators",
      defaultValue = "2",
      description = "schedules: orchestrators, each with its scheduler (default ${DEFAULT-VALUE}).")
  int orchestrators;

  @Option(
      names = "--fail-share",
      defaultValue = "0.3",
      description = "retry-lag: share failing once (default ${DEFAULT-VALUE}).")
  double failShare;

  @Option(
      names = "--backoff-ms",
      defaultValue = "500",
      description = "retry-lag: retry delay (default ${DEFAULT-VALUE}).")
  int backoffMs;

  @Option(
      names = "--sleep-ms",
      defaultValue = "1000",
      description = "concurrency: how long each job sleeps (default ${DEFAULT-VALUE}).")
  int sleepMs;

  @Option(
      names = "--heap-mb",
      description = "concurrency, backlog: the worker JVM's -Xmx (default 512 / 256).")
  Integer heapMb;

  @Option(
      names = "--requests",
      defaultValue = "200",
      description = "console: measured requests per path (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(
      names = "--with-floor",
      description = "throughput: run the floor scenario first and print throughput / floor.")
  boolean withFloor;

  @Option(
      names = "--durability",
      defaultValue = "test",
      description =
          "Embedded PostgreSQL: test (fsync=off, synchronous_commit=off, as the peers"
              + " were measured) or production (fsync=on, synchronous_commit=on). Default ${DEFAULT-VALUE}.")
  String durability;

  @Option(
      names = "--kafka",
      paramLabel = "PROPERTY=VALUE",
      description =
          "A Kafka client property for Ferry's clients (repeatable), e.g."
              + " --kafka fetch.min.bytes=65536 to measure a tuning knob.")
  java.util.Map<String, String> kafka = new java.util.LinkedHashMap<>();

  @Option(
      names = "--timeout-s",
      defaultValue = "900",
      description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutS;

  @Override
  public Integer call() throws Exception {
    BenchInfra.durability(durability);
    BenchInfra.kafkaProperties(kafka);
    Duration timeout = Duration.ofSeconds(timeoutS);
    if (partitions < 1
        || workers < 1
        || timeoutS < 1
        || warmupJobs < 1
        || (jobs != null && jobs < 1)
        || (concurrency != null && concurrency < 1)
        || (heapMb != null && heapMb < 16)) {
      throw new IllegalArgumentException(
          "--jobs, --workers, --concurrency, --partitions and"
              + " --timeout-s must be >= 1, --heap-mb >= 16");
    }
    switch (scenario) {
      case "fanout" ->
          System.out.println(
              FanoutBench.run(children, orDefault(concurrency, 256), System.out).line());
      case "breaker" ->
          System.out.println(
              BreakerBench.run(new BreakerBench.Options(cycles, rate), System.out).line());
      case "retry-lag" -> {
        if (rate < 1 || seconds < 1 || failShare < 0 || failShare > 1 || backoffMs < 0) {
          throw new IllegalArgumentException(
              "--rate and --seconds must be >= 1, --fail-share in [0, 1]");
        }
        System.out.println(
            RetryLagBench.run(
                    new RetryLagBench.Options(
                        rate, seconds, orDefault(warmupS, 10), failShare, backoffMs),
                    System.out)
                .line());
      }
      case "latency" ->
          System.out.println(
              LatencyBench.run(
                      new LatencyBench.Options(rate, seconds, orDefault(warmupS, 10)), System.out)
                  .line());
      case "floor" ->
          System.out.println(
              FloorBench.run(
                      new FloorBench.Options(
                          orDefault(jobs, 100_000), partitions, timeout, warmupJobs),
                      System.out)
                  .line());
      case "concurrency" -> {
        int n = orDefault(jobs, 10_000);
        System.out.println(
            ConcurrencyBench.run(
                    new ConcurrencyBench.Options(
                        n, sleepMs, orDefault(concurrency, n), orDefault(heapMb, 512), timeout),
                    System.out)
                .line());
      }
      case "backlog" ->
          System.out.println(
              BacklogBench.run(
                      new BacklogBench.Options(
                          orDefault(jobs, 1_000_000),
                          orDefault(concurrency, 100),
                          orDefault(heapMb, 256),
                          timeout),
                      System.out)
                  .line());
      case "throughput" -> throughput(timeout);
      case "retention" ->
          System.out.println(
              RetentionBench.run(
                      new RetentionBench.Options(seeded, orDefault(jobs, 100_000), 1_000, timeout),
                      System.out)
                  .line());
      case "console" ->
          System.out.println(
              ConsoleBench.run(
                      new ConsoleBench.Options(orDefault(jobs, 1_000_000), requests, 20),
                      System.out)
                  .line());
      case "schedules" ->
          System.out.println(
              ScheduleBench.run(
                      new ScheduleBench.Options(
                          seconds, orDefault(warmupS, 5), schedules, cron, orchestrators, timeout),
                      System.out)
                  .line());
      case "flow" ->
          System.out.println(
              FlowBench.run(
                  new FlowBench.Options(
                      8, orDefault(jobs, 20_000), 20, 1000, 10, 200, 2000, timeout),
                  System.out));
      default ->
          throw new IllegalArgumentException(
              "unknown scenario '"
                  + scenario
                  + "' (known: floor, throughput, latency, retry-lag, breaker, fanout, concurrency,"
                  + " backlog, retention, console, schedules, flow)");
    }
    return 0;
  }

  private void throughput(Duration timeout) throws Exception {
    int n = orDefault(jobs, 100_000);
    FloorBench.Result floor = null;
    if (withFloor) {
      floor =
          FloorBench.run(new FloorBench.Options(n, partitions, timeout, warmupJobs), System.out);
      System.out.println(floor.line());
    }
    ThroughputBench.Result r =
        ThroughputBench.run(
            new ThroughputBench.Options(
                n, workers, orDefault(concurrency, 256), partitions, timeout, warmupJobs),
            System.out);
    System.out.println(r.line());
    if (floor != null) {
      System.out.printf(
          Locale.ROOT,
          "RESULT scenario=throughput-vs-floor ratio=%.2f throughput_jobs_per_s=%.0f"
              + " floor_jobs_per_s=%.0f db=%s%n",
          r.jobsPerSecond() / floor.jobsPerSecond(),
          r.jobsPerSecond(),
          floor.jobsPerSecond(),
          r.durability());
    }
  }

  private static int orDefault(Integer value, int otherwise) {
    return value == null ? otherwise : value;
  }
}
