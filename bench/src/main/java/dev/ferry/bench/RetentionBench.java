package dev.ferry.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.orchestrator.retention.Pruner;
import dev.ferry.testkit.LocalCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Retention under load: seeds N finished jobs (with their attempts) that are 30 days old, runs M
 * {@code noop} jobs through Ferry without pruning (baseline), then the same M jobs while retention
 * (Ferry's {@link Pruner}: batches of 1,000 under its advisory lock, as the orchestrator runs it)
 * deletes the N old ones. Reports both rates, the slowdown, the slowest second while pruning (a
 * stall would show as 0), and how fast the old rows went.
 */
public final class RetentionBench {
  /** Parameters of a run. */
  public record Options(int seeded, int jobs, int batchSize, Duration timeout) {}

  /** Figures of a run. */
  public record Result(
      Options options,
      double baselineJobsPerS,
      double pruningJobsPerS,
      long slowestSecond,
      long prunedDuringLoad,
      double pruneSeconds,
      String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=retention seeded=%d jobs=%d baseline_jobs_per_s=%.0f"
              + " pruning_jobs_per_s=%.0f slowdown_pct=%.1f slowest_second_jobs=%d"
              + " pruned_during_load=%d prune_all_s=%.1f prune_rows_per_s=%.0f db=%s",
          options.seeded(),
          options.jobs(),
          baselineJobsPerS,
          pruningJobsPerS,
          100.0 * (1 - pruningJobsPerS / baselineJobsPerS),
          slowestSecond,
          prunedDuringLoad,
          pruneSeconds,
          options.seeded() / pruneSeconds,
          durability);
    }
  }

  private RetentionBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("retention: starting embedded Kafka, PostgreSQL, 1 orchestrator, 1 worker…");
    try (LocalCluster cluster =
        BenchInfra.cluster(1, c -> c.with(Setting.RETENTION_MS, "0"), List.of())) {
      FerryConfig config = cluster.config();
      try (Connection db = cluster.connect();
          HikariDataSource pool = Databases.pool(config, "bench-retention");
          BenchJobs jobs = new BenchJobs(config)) {
        out.println("Warm-up: 2,000 jobs…");
        jobs.submit(2_000, "noop", "");
        jobs.awaitSucceeded(db, 2_000, o.timeout(), out);
        jobs.truncate(db);
        seed(db, o.seeded(), out);

        out.printf("Baseline: %,d noop jobs, no pruning…%n", o.jobs());
        Phase baseline = phase(db, jobs, o, 0, out);
        out.printf("  %.0f jobs/s%n", baseline.jobsPerS());

        Pruner pruner =
            new Pruner(
                pool,
                Duration.ofDays(7),
                o.batchSize(),
                Duration.ofSeconds(1),
                Clock.systemUTC(),
                new SimpleMeterRegistry());
        AtomicLong pruned = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long pruneStart = System.nanoTime();
        AtomicLong pruneEnd = new AtomicLong();
        Thread pruning =
            Thread.ofPlatform()
                .name("bench-pruner")
                .start(
                    () -> {
                      try {
                        Pruner.Batch b;
                        do {
                          b = pruner.pruneOnce();
                          pruned.addAndGet(b.jobs());
                        } while (!stop.get() && b.jobs() > 0);
                        pruneEnd.set(System.nanoTime());
                      } catch (SQLException e) {
                        throw new IllegalStateException(e);
                      }
                    });
        out.printf(
            "With retention deleting the %,d old jobs: %,d noop jobs…%n", o.seeded(), o.jobs());
        Phase during = phase(db, jobs, o, o.jobs(), out);
        long prunedDuringLoad = pruned.get();
        out.printf(
            "  %.0f jobs/s; slowest second %d jobs; %,d old jobs deleted meanwhile%n",
            during.jobsPerS(), during.slowestSecond(), prunedDuringLoad);
        pruning.join(o.timeout().toMillis());
        stop.set(true);
        if (pruneEnd.get() == 0) {
          throw new TimeoutException("retention did not finish in " + o.timeout());
        }
        double pruneSeconds = (pruneEnd.get() - pruneStart) / 1e9;
        out.printf("All %,d old jobs deleted in %.1f s%n", pruned.get(), pruneSeconds);
        return new Result(
            o,
            baseline.jobsPerS(),
            during.jobsPerS(),
            during.slowestSecond(),
            prunedDuringLoad,
            pruneSeconds,
            BenchInfra.describe(db));
      }
    }
  }

  private record Phase(double jobsPerS, long slowestSecond) {}

  /** Submits the jobs and samples completions each second until all are SUCCEEDED. */
  private static Phase phase(
      Connection db, BenchJobs jobs, Options o, long doneBefore, PrintStream out) throws Exception {
    long t0 = System.nanoTime();
    Thread submitter =
        Thread.ofPlatform().name("bench-submit").start(() -> jobs.submit(o.jobs(), "noop", ""));
    long deadline = t0 + o.timeout().toNanos();
    long last = doneBefore;
    long slowest = Long.MAX_VALUE;
    long seconds = 0;
    while (true) {
      Thread.sleep(1_000); // one sample per second: the timeline's resolution
      long done = countDone(db);
      seconds++;
      if (done - doneBefore >= o.jobs()) {
        break;
      }
      if (seconds > 1) { // the first second includes submitting's start
        slowest = Math.min(slowest, done - last);
      }
      out.printf(
          "  %,d / %,d done (+%,d in the last second)%n", done - doneBefore, o.jobs(), done - last);
      last = done;
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("only " + (done - doneBefore) + " of " + o.jobs() + " done");
      }
    }
    submitter.join();
    double s = lastFinished(db, t0);
    return new Phase(o.jobs() / s, slowest == Long.MAX_VALUE ? 0 : slowest);
  }

  private static long countDone(Connection db) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED' AND type = 'noop'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Seconds from t0 to the last noop job's finish (from the database, not the poll). */
  private static double lastFinished(Connection db, long t0Nanos) throws SQLException {
    long wallT0 = System.currentTimeMillis() - (System.nanoTime() - t0Nanos) / 1_000_000;
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT (extract(epoch FROM max(finished_at)) * 1000)::bigint FROM ferry.jobs"
                    + " WHERE type = 'noop'")) {
      rs.next();
      return (rs.getLong(1) - wallT0) / 1000.0;
    }
  }

  /** N finished jobs, 30 days old, each with its attempt, inserted in chunks. */
  private static void seed(Connection db, int n, PrintStream out) throws SQLException {
    out.printf("Seeding %,d finished jobs 30 days old (with attempts)…%n", n);
    int chunk = 100_000;
    try (Statement st = db.createStatement()) {
      for (int done = 0; done < n; done += chunk) {
        int k = Math.min(chunk, n - done);
        st.execute(
            """
            WITH j AS (
              INSERT INTO ferry.jobs (id, type, payload, status, attempts, max_attempts,
                                      next_run_at, timeout_ms, result, created_at, updated_at,
                                      started_at, finished_at, run_seq, worker_id)
              SELECT gen_random_uuid(), 'old', '{"t":0}', 'SUCCEEDED', 1, 5,
                     now() - interval '30 days', 30000, 'null', now() - interval '30 days',
                     now() - interval '30 days', now() - interval '30 days',
                     now() - interval '30 days', 1, 'bench-worker'
              FROM generate_series(1, %d)
              RETURNING id, started_at, finished_at)
            INSERT INTO ferry.job_attempts (job_id, attempt, worker_id, started_at, finished_at,
                                            outcome)
            SELECT id, 1, 'bench-worker', started_at, finished_at, 'SUCCEEDED' FROM j
            """
                .formatted(k));
        out.printf("  %,d seeded%n", done + k);
      }
      st.execute("ANALYZE ferry.jobs");
      st.execute("ANALYZE ferry.job_attempts");
    }
  }
}
