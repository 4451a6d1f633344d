package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Many slow jobs at once: N {@code sleep} jobs on one worker (its own JVM, heap capped) whose
 * concurrency is N, so every job can wait at the same time. Measures jobs/s from the first
 * submission to the last success, the most jobs running at one moment, and the worker's memory.
 */
public final class ConcurrencyBench {
  /** Parameters of a run. */
  public record Options(int jobs, int sleepMs, int concurrency, int heapMb, Duration timeout) {}

  /** Figures of a run. */
  public record Result(Options options, double seconds, long peakRunning,
      WorkerProcess.Memory memory, String durability) {
    public double jobsPerSecond() {
      return options.jobs() / seconds;
    }

    public String line() {
      return String.format(Locale.ROOT,
          "RESULT scenario=concurrency jobs=%d sleep_ms=%d concurrency=%d seconds=%.2f"
              + " jobs_per_s=%.0f peak_running=%d %s db=%s",
          options.jobs(), options.sleepMs(), options.concurrency(), seconds, jobsPerSecond(),
          peakRunning, memory.fields(), durability);
    }
  }

  private ConcurrencyBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("concurrency: starting embedded Kafka, PostgreSQL, 1 orchestrator…");
    try (LocalCluster cluster = LocalCluster.start(
        "ferry_bench_" + Long.toHexString(System.nanoTime()), 0, c -> c, List.of())) {
      FerryConfig config = cluster.config();
      out.printf("Starting a worker JVM (-Xmx%dm, concurrency %,d)…%n", o.heapMb(),
          o.concurrency());
      try (WorkerProcess worker = WorkerProcess.start(o.heapMb(),
              BenchJobs.workerSettings(config, o.concurrency()));
          Connection db = DriverManager.getConnection(config.get(Setting.DB_URL),
              config.get(Setting.DB_USER), config.get(Setting.DB_PASSWORD));
          BenchJobs jobs = new BenchJobs(config)) {
        // Both JVMs compile the hot paths first (the worker's is new): the same number of
        // jobs, sleeping 10 ms.
        out.printf("Warming up with %,d short jobs…%n", o.jobs());
        jobs.submit(o.jobs(), "sleep", "\"ms\":10");
        jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
        jobs.truncate(db);
        out.printf("Submitting %,d jobs of sleep %d ms…%n", o.jobs(), o.sleepMs());
        jobs.submit(o.jobs(), "sleep", "\"ms\":" + o.sleepMs());
        jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
        double seconds;
        long peak;
        try (PreparedStatement ps = db.prepareStatement("""
            WITH ev AS (
              SELECT started_at AS t, 1 AS d FROM ferry.job_attempts
              UNION ALL SELECT finished_at, -1 FROM ferry.job_attempts)
            SELECT (SELECT extract(epoch FROM max(finished_at)) * 1000
                           - min((payload->>'t')::bigint) FROM ferry.jobs),
                   (SELECT max(r) FROM (SELECT sum(d) OVER (ORDER BY t, d) AS r FROM ev) x)
            """); ResultSet rs = ps.executeQuery()) {
          rs.next();
          seconds = rs.getDouble(1) / 1000.0;
          peak = rs.getLong(2);
        }
        try (var st = db.createStatement(); ResultSet rs = st.executeQuery("""
            SELECT extract(epoch FROM max(j.created_at)) * 1000 - min((payload->>'t')::bigint),
                   extract(epoch FROM min(a.started_at)) * 1000 - min((payload->>'t')::bigint),
                   extract(epoch FROM max(a.started_at)) * 1000 - min((payload->>'t')::bigint),
                   extract(epoch FROM max(a.finished_at)) * 1000 - min((payload->>'t')::bigint)
            FROM ferry.jobs j JOIN ferry.job_attempts a ON a.job_id = j.id""")) {
          rs.next();
          out.printf(Locale.ROOT, "  from the first submission: all accepted after %.0f ms,"
              + " first start %.0f ms, last start %.0f ms, last finish %.0f ms%n",
              rs.getDouble(1), rs.getDouble(2), rs.getDouble(3), rs.getDouble(4));
        }
        String durability = BenchInfra.describe(db);
        out.println("Stopping the worker…");
        return new Result(o, seconds, peak, worker.stop(), durability);
      }
    }
  }

}
