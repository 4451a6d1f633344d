package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.testkit.LocalCluster;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/**
 * Many slow jobs at once: N {@code sleep} jobs on one worker (its own JVM, heap capped) whose
 * concurrency is N, so every job can wait at the same time. Two measurements, both on the same
 * (JIT-warm) worker:
 *
 * <ul>
 *   <li><b>end to end</b>: jobs/s from the first submission to the last finish, the jobs submitted
 *       while the worker runs (bounded by how fast the whole installation accepts and dispatches N
 *       jobs, see the floor scenario);
 *   <li><b>burst</b>: the N jobs submitted beforehand with the same {@code runAt}, so they wait in
 *       the database and all fall due at one moment (a scheduled batch): jobs/s from that moment to
 *       the last finish, which is what the dispatcher and the worker's concurrency allow without
 *       the submission pipeline in the way.
 * </ul>
 *
 * <p>Also the most jobs running at one moment and each worker's memory.
 */
public final class ConcurrencyBench {
  /** Parameters of a run. */
  public record Options(int jobs, int sleepMs, int concurrency, int heapMb, Duration timeout) {}

  /** Figures of one measurement: its span and the most jobs running at once. */
  public record Phase(double seconds, long peakRunning) {}

  /** Figures of a run. */
  public record Result(
      Options options,
      Phase endToEnd,
      Phase burst,
      WorkerProcess.Memory memory,
      String durability) {
    public double jobsPerSecond() {
      return options.jobs() / endToEnd.seconds();
    }

    public double burstJobsPerSecond() {
      return options.jobs() / burst.seconds();
    }

    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=concurrency jobs=%d sleep_ms=%d concurrency=%d seconds=%.2f"
              + " jobs_per_s=%.0f peak_running=%d burst_seconds=%.2f burst_jobs_per_s=%.0f"
              + " burst_peak_running=%d %s db=%s",
          options.jobs(),
          options.sleepMs(),
          options.concurrency(),
          endToEnd.seconds(),
          jobsPerSecond(),
          endToEnd.peakRunning(),
          burst.seconds(),
          burstJobsPerSecond(),
          burst.peakRunning(),
          memory.fields(),
          durability);
    }
  }

  private ConcurrencyBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("concurrency: starting embedded Kafka, PostgreSQL, 1 orchestrator…");
    try (LocalCluster cluster = BenchInfra.cluster(0, c -> c, List.of())) {
      FerryConfig config = cluster.config();
      try (Connection db = cluster.connect();
          BenchJobs jobs = new BenchJobs(config)) {
        out.printf(
            "Starting a worker JVM (-Xmx%dm, concurrency %,d)…%n", o.heapMb(), o.concurrency());
        try (WorkerProcess worker =
            WorkerProcess.start(o.heapMb(), BenchJobs.workerSettings(config, o.concurrency()))) {
          // Both JVMs compile the hot paths first (the worker's is new): the same number of
          // jobs, sleeping 10 ms.
          out.printf("Warming up with %,d short jobs…%n", o.jobs());
          jobs.submit(o.jobs(), "sleep", "\"ms\":10");
          jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
          jobs.truncate(db);
          out.printf("End to end: submitting %,d jobs of sleep %d ms…%n", o.jobs(), o.sleepMs());
          jobs.submit(o.jobs(), "sleep", "\"ms\":" + o.sleepMs());
          jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
          double[] endToEnd = span(db, "min((payload->>'t')::bigint)", out);
          jobs.truncate(db);

          // Time to submit them all (at a few thousand a second) before they fall due.
          Instant due =
              Instant.now().plusSeconds(5 + o.jobs() / 2_000).truncatedTo(ChronoUnit.SECONDS);
          out.printf(
              "Burst: submitting %,d jobs of sleep %d ms, all due at %s…%n",
              o.jobs(), o.sleepMs(), due);
          jobs.submit(o.jobs(), "sleep", "\"ms\":" + o.sleepMs(), "\"runAt\":\"" + due + "\"");
          jobs.awaitStatus(db, "PENDING", o.jobs(), o.timeout(), out);
          if (Instant.now().isAfter(due)) {
            throw new IllegalStateException(
                "the burst's jobs were not all accepted before they"
                    + " fell due; use fewer --jobs");
          }
          jobs.awaitSucceeded(db, o.jobs(), o.timeout(), out);
          double[] burst = span(db, String.valueOf(due.toEpochMilli()), out);
          String durability = BenchInfra.describe(db);
          out.println("Stopping the worker…");
          return new Result(
              o,
              new Phase(endToEnd[0], (long) endToEnd[1]),
              new Phase(burst[0], (long) burst[1]),
              worker.stop(),
              durability);
        }
      }
    }
  }

  /**
   * Seconds from {@code origin} (an SQL expression in epoch ms over jobs {@code j} and attempts
   * {@code a}) to the last finish, and the most attempts running at one moment.
   */
  private static double[] span(Connection db, String origin, PrintStream out) throws Exception {
    long peak;
    try (PreparedStatement ps =
            db.prepareStatement(
                """
        WITH ev AS (
          SELECT started_at AS t, 1 AS d FROM ferry.job_attempts
          UNION ALL SELECT finished_at, -1 FROM ferry.job_attempts)
        SELECT max(r) FROM (SELECT sum(d) OVER (ORDER BY t, d) AS r FROM ev) x
        """);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      peak = rs.getLong(1);
    }
    try (var st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT extract(epoch FROM max(j.created_at)) * 1000 - "
                    + origin
                    + ","
                    + " extract(epoch FROM min(a.started_at)) * 1000 - "
                    + origin
                    + ","
                    + " extract(epoch FROM max(a.started_at)) * 1000 - "
                    + origin
                    + ","
                    + " extract(epoch FROM max(a.finished_at)) * 1000 - "
                    + origin
                    + " FROM ferry.jobs j JOIN ferry.job_attempts a ON a.job_id = j.id")) {
      rs.next();
      out.printf(
          Locale.ROOT,
          "  all accepted at %.0f ms, first start %.0f ms, last start %.0f ms,"
              + " last finish %.0f ms; at most %,d running at once%n",
          rs.getDouble(1),
          rs.getDouble(2),
          rs.getDouble(3),
          rs.getDouble(4),
          peak);
      return new double[] {rs.getDouble(4) / 1000.0, peak};
    }
  }
}
