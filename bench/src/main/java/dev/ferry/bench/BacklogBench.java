package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.testkit.LocalCluster;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * A deep backlog: N {@code noop} jobs are submitted and dispatched (all {@code QUEUED} on the work
 * topic) before a worker exists; then one worker (its own JVM, heap capped) at a modest concurrency
 * works through them. Shows that the worker's memory does not grow with the backlog: it fetches
 * only what it can start.
 */
public final class BacklogBench {
  /** Parameters of a run. */
  public record Options(int jobs, int concurrency, int heapMb, Duration timeout) {}

  /** Figures of a run. */
  public record Result(
      Options options,
      double queueSeconds,
      double drainSeconds,
      WorkerProcess.Memory memory,
      String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=backlog jobs=%d concurrency=%d queue_s=%.1f drain_s=%.1f"
              + " drain_jobs_per_s=%.0f %s db=%s",
          options.jobs(),
          options.concurrency(),
          queueSeconds,
          drainSeconds,
          options.jobs() / drainSeconds,
          memory.fields(),
          durability);
    }
  }

  private BacklogBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("backlog: starting embedded Kafka, PostgreSQL, 1 orchestrator (no worker yet)…");
    try (LocalCluster cluster = BenchInfra.cluster(0, c -> c, List.of())) {
      FerryConfig config = cluster.config();
      try (Connection db = cluster.connect();
          BenchJobs jobs = new BenchJobs(config)) {
        out.printf("Submitting %,d noop jobs…%n", o.jobs());
        long t0 = System.nanoTime();
        int chunk = 100_000;
        for (int sent = 0; sent < o.jobs(); sent += chunk) {
          jobs.submit(Math.min(chunk, o.jobs() - sent), "noop", "");
          out.printf("  %,d submitted%n", Math.min(o.jobs(), sent + chunk));
        }
        out.println("Waiting until every job is QUEUED on the work topic…");
        jobs.awaitStatus(db, "QUEUED", o.jobs(), o.timeout(), out);
        double queueSeconds = (System.nanoTime() - t0) / 1e9;
        out.printf(
            "%,d jobs queued in %.1f s; starting a worker JVM (-Xmx%dm, concurrency %d)…%n",
            o.jobs(), queueSeconds, o.heapMb(), o.concurrency());
        long t1 = System.nanoTime();
        try (WorkerProcess worker =
            WorkerProcess.start(o.heapMb(), BenchJobs.workerSettings(config, o.concurrency()))) {
          jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
          double drainSeconds = (System.nanoTime() - t1) / 1e9;
          String durability = BenchInfra.describe(db);
          out.println("Stopping the worker…");
          return new Result(o, queueSeconds, drainSeconds, worker.stop(), durability);
        }
      }
    }
  }
}
