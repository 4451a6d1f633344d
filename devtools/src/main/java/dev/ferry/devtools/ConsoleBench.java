package dev.ferry.devtools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.bench.BenchInfra;
import dev.ferry.console.ConsoleServer;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.migrations.Migrations;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.TestDatabase;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The console on a big database: seeds {@code ferry.jobs} with N realistic jobs (1,000,000 by
 * default: statuses, types, dependencies, keys, errors, fan-out parents with their children, the
 * attempts of every job) and the other tables the console reads, then times every page and API call
 * with sequential requests (after a warm-up) and reports p50, p99 and max per path. Target: p99 ≤
 * {@value #TARGET_P99_MS} ms everywhere; a slower path is flagged (the run still succeeds). Every
 * request must answer 200, or the run fails.
 *
 * <p>Only PostgreSQL is read: the console's actions (which publish on Kafka) are not exercised.
 */
public final class ConsoleBench {
  /** The console's latency target (issue 16): p99 per page or API call. */
  static final double TARGET_P99_MS = 200;

  /** Rows per seeding statement (progress is printed after each). */
  private static final int CHUNK = 100_000;

  /** Children of each small fan-out parent. */
  private static final int SMALL_PARENT_CHILDREN = 250;

  private static final String[] TYPES = {
    "payments.charge",
    "email.send",
    "webhook.deliver",
    "invoice.render",
    "image.resize",
    "sms.send",
    "search.index",
    "report.build",
    "export.csv",
    "noop"
  };

  /** The dependency each type calls (NULL: none); same order as {@link #TYPES}. */
  private static final String[] DEPENDENCIES = {
    "payments-api",
    "smtp-relay",
    "partner-webhooks",
    null,
    null,
    "sms-gateway",
    "search-cluster",
    null,
    null,
    null
  };

  /** The type whose failed jobs are listed by type and paged with the cursor (the commonest). */
  static final String TYPE = "payments.charge";

  /** Parameters of a run. */
  public record Options(int jobs, int requests, int warmupRequests) {}

  /** One measured path: its label (ids and cursors shown as placeholders) and latencies. */
  public record PathResult(String label, double p50Ms, double p99Ms, double maxMs) {
    boolean slow() {
      return p99Ms > TARGET_P99_MS;
    }

    String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=console path=%s p50_ms=%.1f p99_ms=%.1f max_ms=%.1f",
          label,
          p50Ms,
          p99Ms,
          maxMs);
    }
  }

  /** Figures of a run. */
  public record Result(
      Options options, long rows, double seedSeconds, List<PathResult> paths, String durability) {
    /** The summary line; {@link #run} prints one line per path before it. */
    public String line() {
      PathResult worst = paths.get(0);
      for (PathResult p : paths) {
        if (p.p99Ms() > worst.p99Ms()) {
          worst = p;
        }
      }
      return String.format(
          Locale.ROOT,
          "RESULT scenario=console jobs=%d rows=%d seed_s=%.1f requests=%d paths=%d"
              + " worst_p99_ms=%.1f worst_path=%s over_target=%d target_p99_ms=%.0f db=%s",
          options.jobs(),
          rows,
          seedSeconds,
          options.requests(),
          paths.size(),
          worst.p99Ms(),
          worst.label(),
          paths.stream().filter(PathResult::slow).count(),
          TARGET_P99_MS,
          durability);
    }
  }

  private ConsoleBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    if (o.jobs() < 1_000 || o.requests() < 1 || o.warmupRequests() < 0) {
      throw new IllegalArgumentException(
          "console: --jobs must be >= 1000 and --requests >= 1 (warm-up >= 0)");
    }
    out.println("console: starting embedded Kafka and PostgreSQL…");
    try (Infra infra = BenchInfra.start()) {
      TestDatabase tdb = infra.newDatabase("ferry_bench_" + Long.toHexString(System.nanoTime()));
      // Kafka only because the console takes a whole configuration: its actions (not measured)
      // would publish there; reads never touch it.
      FerryConfig config =
          FerryConfig.defaults()
              .with(Setting.KAFKA_BOOTSTRAP_SERVERS, infra.bootstrapServers())
              .with(Setting.DB_URL, tdb.url())
              .with(Setting.DB_USER, tdb.user())
              .with(Setting.DB_PASSWORD, tdb.password())
              .with(Setting.CONSOLE_HOST, "127.0.0.1")
              .with(Setting.CONSOLE_PORT, "0");
      try (HikariDataSource migrations = Databases.migrationPool(config, "bench-migrate")) {
        Migrations.migrate(migrations);
      }
      long rows;
      double seedSeconds;
      String durability;
      Targets targets;
      try (Connection db = DriverManager.getConnection(tdb.url(), tdb.user(), tdb.password())) {
        long t0 = System.nanoTime();
        rows = seed(db, o.jobs(), out);
        seedSeconds = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "Seeded in %.1f s%n", seedSeconds);
        durability = BenchInfra.describe(db);
        targets = targets(db);
      }
      try (HikariDataSource pool = Databases.pool(config, "bench-console");
          ConsoleServer console = ConsoleServer.start(pool, config)) {
        out.println("Console at " + console.url());
        List<PathResult> paths = measure(console.port(), targets, o, out);
        printTable(paths, o, out);
        for (PathResult p : paths) {
          out.println(p.line());
        }
        return new Result(o, rows, seedSeconds, paths, durability);
      }
    }
  }

  /** Ids the measured paths need: a finished job with attempts and the biggest parent. */
  private record Targets(UUID job, UUID parent, long parentChildren) {}

  private static Targets targets(Connection db) throws SQLException {
    try (Statement st = db.createStatement()) {
      UUID job;
      try (ResultSet rs =
          st.executeQuery(
              "SELECT id FROM ferry.jobs WHERE status = 'FAILED' AND attempts = 5"
                  + " AND parent_id IS NULL AND type = '"
                  + TYPE
                  + "' LIMIT 1")) {
        if (!rs.next()) {
          throw new IllegalStateException("the seed made no failed " + TYPE + " job");
        }
        job = rs.getObject(1, UUID.class);
      }
      try (ResultSet rs =
          st.executeQuery(
              "SELECT id, children_total FROM ferry.jobs WHERE children_total > 0"
                  + " ORDER BY children_total DESC LIMIT 1")) {
        if (!rs.next()) {
          throw new IllegalStateException("the seed made no parent");
        }
        return new Targets(job, rs.getObject(1, UUID.class), rs.getLong(2));
      }
    }
  }

  /** A path to time: its label in the report and the request's path and query. */
  private record Path(String label, String uri) {}

  private static List<PathResult> measure(int port, Targets t, Options o, PrintStream out)
      throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    String base = "http://127.0.0.1:" + port;
    String type = URLEncoder.encode(TYPE, StandardCharsets.UTF_8);
    JsonNode page1 =
        new ObjectMapper().readTree(get(http, base, "/api/jobs?status=FAILED&type=" + type).body());
    if (page1.path("jobs").size() != 50 || !page1.path("next").isTextual()) {
      throw new IllegalStateException(
          "expected a full first page of failed " + TYPE + " jobs with a next cursor: " + page1);
    }
    String cursor = URLEncoder.encode(page1.get("next").asText(), StandardCharsets.UTF_8);
    String children = String.format(Locale.ROOT, "%,d children", t.parentChildren());
    List<Path> paths =
        List.of(
            new Path("/", "/"),
            new Path("/fragments/overview", "/fragments/overview"),
            new Path("/jobs", "/jobs"),
            new Path("/jobs?status=FAILED", "/jobs?status=FAILED"),
            new Path("/jobs?type=" + TYPE, "/jobs?type=" + type),
            new Path("/jobs?q=503", "/jobs?q=503"),
            new Path(
                "/jobs?status=FAILED&type=" + TYPE + "&after={page-1-cursor}",
                "/jobs?status=FAILED&type=" + type + "&after=" + cursor),
            new Path("/jobs/{job}", "/jobs/" + t.job()),
            new Path("/jobs/{parent}", "/jobs/" + t.parent()),
            new Path(
                "/jobs/confirm?action=retry&status=FAILED",
                "/jobs/confirm?action=retry&status=FAILED"),
            new Path("/breakers", "/breakers"),
            new Path("/workers", "/workers"),
            new Path("/rejected", "/rejected"),
            new Path("/schedules", "/schedules"),
            new Path("/limits", "/limits"),
            new Path("/api/stats", "/api/stats"),
            new Path("/api/overview", "/api/overview"),
            new Path("/api/jobs", "/api/jobs"),
            new Path("/api/jobs?status=FAILED", "/api/jobs?status=FAILED"),
            new Path("/api/jobs?q=503", "/api/jobs?q=503"),
            new Path("/api/jobs/{job}", "/api/jobs/" + t.job()),
            new Path("/api/jobs/{parent}", "/api/jobs/" + t.parent()),
            new Path("/api/jobs/count?status=FAILED", "/api/jobs/count?status=FAILED"),
            new Path("/api/breakers", "/api/breakers"),
            new Path("/api/workers", "/api/workers"),
            new Path("/api/rejected", "/api/rejected"));
    out.printf(
        "Timing %d paths: %d warm-up then %d measured sequential requests each"
            + " ({job} = %s, {parent} = %s with %s)…%n",
        paths.size(), o.warmupRequests(), o.requests(), t.job(), t.parent(), children);
    List<PathResult> results = new ArrayList<>();
    for (Path p : paths) {
      for (int i = 0; i < o.warmupRequests(); i++) {
        get(http, base, p.uri());
      }
      long[] nanos = new long[o.requests()];
      for (int i = 0; i < nanos.length; i++) {
        long t0 = System.nanoTime();
        get(http, base, p.uri());
        nanos[i] = System.nanoTime() - t0;
      }
      Arrays.sort(nanos);
      PathResult r =
          new PathResult(
              p.label(),
              rank(nanos, 0.50) / 1e6,
              rank(nanos, 0.99) / 1e6,
              nanos[nanos.length - 1] / 1e6);
      out.printf(
          Locale.ROOT,
          "  %-64s p50 %7.1f ms  p99 %7.1f ms%s%n",
          r.label(),
          r.p50Ms(),
          r.p99Ms(),
          r.slow() ? "  SLOW" : "");
      results.add(r);
    }
    return results;
  }

  /** The nearest-rank percentile of sorted values. */
  private static long rank(long[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** GETs the path; anything but 200 fails the run. */
  private static HttpResponse<String> get(HttpClient http, String base, String path)
      throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      String body = r.body();
      throw new IllegalStateException(
          "GET "
              + path
              + " answered "
              + r.statusCode()
              + ": "
              + (body.length() > 500 ? body.substring(0, 500) + "…" : body));
    }
    return r;
  }

  private static void printTable(List<PathResult> paths, Options o, PrintStream out) {
    out.printf(
        Locale.ROOT,
        "%nConsole latency: %d sequential requests per path after %d warm-up;"
            + " target p99 <= %.0f ms%n",
        o.requests(),
        o.warmupRequests(),
        TARGET_P99_MS);
    String row = "| %-64s | %8s | %8s | %8s | %-4s |%n";
    out.printf(Locale.ROOT, row, "path", "p50 ms", "p99 ms", "max ms", "");
    out.printf(Locale.ROOT, row, "-".repeat(64), "-------:", "-------:", "-------:", "----");
    for (PathResult p : paths) {
      out.printf(
          Locale.ROOT,
          row,
          p.label(),
          String.format(Locale.ROOT, "%.1f", p.p50Ms()),
          String.format(Locale.ROOT, "%.1f", p.p99Ms()),
          String.format(Locale.ROOT, "%.1f", p.maxMs()),
          p.slow() ? "SLOW" : "");
    }
    long slow = paths.stream().filter(PathResult::slow).count();
    out.println(
        slow == 0
            ? "Every path within the target."
            : slow
                + " path(s) over the target (SLOW): see EXPLAIN (ANALYZE, BUFFERS) of their SQL.");
  }

  // ---------------------------------------------------------------------------------------------
  // Seeding

  /**
   * Seeds every table the console reads; returns the rows in {@code ferry.jobs}. Jobs: about 95.5 %
   * SUCCEEDED, 3 % FAILED, 1 % CANCELLED, 0.5 % waiting or running (created in the last hour, the
   * rest over the last 7 days); one fan-out parent with N/20 children and N/5000 parents of 250
   * children each (children inserted together, as fan-out does); every job's attempts.
   */
  static long seed(Connection db, int n, PrintStream out) throws SQLException {
    long bigStart = n / 2 + 1;
    long bigEnd = bigStart + n / 20 - 1;
    int smallParents = Math.max(1, n / 5_000);
    long smallStart = bigEnd + 1;
    long smallEnd = smallStart + (long) smallParents * SMALL_PARENT_CHILDREN - 1;
    out.printf(
        Locale.ROOT,
        "Seeding %,d jobs (with their attempts; one parent of %,d children and %,d of %d)…%n",
        n,
        bigEnd - bigStart + 1,
        smallParents,
        SMALL_PARENT_CHILDREN);
    long t0 = System.nanoTime();
    try (Statement st = db.createStatement()) {
      long attempts = 0;
      for (long done = 0; done < n; done += CHUNK) {
        long from = done + 1;
        long to = Math.min(n, done + CHUNK);
        attempts += st.executeUpdate(jobsSql(from, to, bigStart, bigEnd, smallStart, smallEnd));
        out.printf(
            Locale.ROOT,
            "  %,d / %,d jobs, %,d attempts (%.0f s)%n",
            to,
            n,
            attempts,
            (System.nanoTime() - t0) / 1e9);
      }
      int parents = st.executeUpdate(PARENTS_SQL);
      out.printf(Locale.ROOT, "  %,d fan-out parents%n", parents);
      st.executeUpdate(activitySql());
      st.executeUpdate(BREAKERS_SQL);
      st.executeUpdate(WORKERS_SQL);
      st.executeUpdate(REJECTED_SQL);
      out.println("  job_activity (2 hours x 10 types), 5 breakers, 20 workers, 1,000 rejected");
      for (String table :
          List.of(
              "jobs",
              "job_attempts",
              "job_activity",
              "circuit_breakers",
              "workers",
              "rejected_submissions")) {
        st.execute("VACUUM ANALYZE ferry." + table);
      }
      out.printf(Locale.ROOT, "  VACUUM ANALYZE done (%.0f s)%n", (System.nanoTime() - t0) / 1e9);
      StringBuilder statuses = new StringBuilder();
      try (ResultSet rs =
          st.executeQuery(
              "SELECT status, count(*), 100.0 * count(*) / sum(count(*)) OVER ()"
                  + " FROM ferry.jobs GROUP BY status ORDER BY 2 DESC")) {
        while (rs.next()) {
          statuses.append(
              String.format(
                  Locale.ROOT,
                  "%s%s %,d (%.1f %%)",
                  statuses.isEmpty() ? "" : ", ",
                  rs.getString(1),
                  rs.getLong(2),
                  rs.getDouble(3)));
        }
      }
      out.println("  statuses: " + statuses);
      try (ResultSet rs =
          st.executeQuery(
              "SELECT count(*), pg_size_pretty(pg_total_relation_size('ferry.jobs')),"
                  + " (SELECT count(*) FROM ferry.job_attempts) FROM ferry.jobs")) {
        rs.next();
        out.printf(
            Locale.ROOT,
            "  ferry.jobs: %,d rows, %s with indexes; ferry.job_attempts: %,d rows%n",
            rs.getLong(1),
            rs.getString(2),
            rs.getLong(3));
        return rs.getLong(1);
      }
    }
  }

  private static String sqlArray(String[] values) {
    StringBuilder b = new StringBuilder("ARRAY[");
    for (int i = 0; i < values.length; i++) {
      b.append(i == 0 ? "" : ", ").append(values[i] == null ? "NULL" : "'" + values[i] + "'");
    }
    return b.append("]::text[]").toString();
  }

  /**
   * Jobs {@code from..to} of the seed (g numbers them) with their attempts, in one statement. Rows
   * {@code bigStart..bigEnd} are the children of the big parent, {@code smallStart..smallEnd} those
   * of the small ones (parent ids are md5 of a name, so the parents can be inserted afterwards).
   */
  private static String jobsSql(
      long from, long to, long bigStart, long bigEnd, long smallStart, long smallEnd) {
    return """
        WITH base AS (
          SELECT g, random() AS rs, random() AS rt, random() AS rc, random() AS ra,
                 random() AS re, random() AS rd, random() AS rf, random() AS rg
          FROM generate_series(%1$d, %2$d) AS g
        ), typed AS (
          SELECT b.*, 1 + least(9, floor(10 * rt * rt))::int AS ti,
                 CASE WHEN rs < 0.955 THEN 'SUCCEEDED' WHEN rs < 0.985 THEN 'FAILED'
                      WHEN rs < 0.995 THEN 'CANCELLED' WHEN rs < 0.9965 THEN 'RETRY_WAIT'
                      WHEN rs < 0.998 THEN 'PENDING' WHEN rs < 0.999 THEN 'QUEUED'
                      ELSE 'RUNNING' END AS status,
                 CASE WHEN g BETWEEN %3$d AND %4$d THEN md5('ferry-bench-parent-0')::uuid
                      WHEN g BETWEEN %5$d AND %6$d
                        THEN md5('ferry-bench-parent-' || (1 + (g - %5$d) / %7$d))::uuid
                 END AS parent_id
          FROM base b
        ), shaped AS (
          SELECT t.*,
                 (%8$s)[ti] AS type,
                 (%9$s)[ti] AS dependency,
                 CASE
                   WHEN g BETWEEN %3$d AND %4$d
                     THEN now() - interval '3 days' + (g - %3$d) * interval '1 millisecond'
                   WHEN g BETWEEN %5$d AND %6$d
                     THEN now() - ((1 + (g - %5$d) / %7$d) * 7919 %% 10000) / 10000.0
                            * interval '7 days' + (g - %5$d) %% %7$d * interval '1 millisecond'
                   WHEN status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                     THEN now() - rc * interval '7 days'
                   ELSE now() - rc * interval '1 hour'
                 END AS created,
                 CASE status
                   WHEN 'SUCCEEDED' THEN CASE WHEN ra < 0.9 THEN 1 WHEN ra < 0.97 THEN 2
                                              ELSE 3 + floor((ra - 0.97) * 100)::int END
                   WHEN 'FAILED' THEN CASE WHEN ra < 0.7 THEN 5 ELSE 1 END
                   WHEN 'CANCELLED' THEN floor(ra * 3)::int
                   WHEN 'RETRY_WAIT' THEN 1 + floor(ra * 4)::int
                   WHEN 'RUNNING' THEN 1 + floor(ra * 3)::int
                   ELSE 0
                 END AS attempts
          FROM typed t
        ), timed AS (
          SELECT s.*,
                 CASE WHEN attempts > 0 THEN created + rd * interval '2 seconds' END AS first_start,
                 (50 + rf * 1950) * interval '1 millisecond' AS took,
                 CASE WHEN status IN ('FAILED', 'RETRY_WAIT')
                        OR (status = 'CANCELLED' AND attempts > 0) THEN
                   CASE WHEN dependency IS NOT NULL AND re < 0.6
                     THEN 'http ' || (ARRAY['503', '503', '500', '502', '429'])[1 + floor(rg * 5)::int]
                          || ' from ' || dependency
                     ELSE (ARRAY['timeout after 30000 ms',
                                 'java.net.SocketTimeoutException: Read timed out',
                                 'java.lang.IllegalStateException: template "invoice-v2" not found',
                                 'connection reset by peer',
                                 'invalid payload: missing field "customer"',
                                 'S3 PutObject: 503 Slow Down',
                                 'worker lost 3 times running it: poison job',
                                 'java.lang.OutOfMemoryError: Java heap space'])[1 + floor(rg * 8)::int]
                   END
                 END AS error
          FROM shaped s
        ), j AS (
          INSERT INTO ferry.jobs (id, parent_id, type, dependency, payload, status, attempts,
                                  max_attempts, next_run_at, timeout_ms, result, last_error, key,
                                  worker_id, created_at, updated_at, started_at, finished_at,
                                  run_seq)
          SELECT gen_random_uuid(), parent_id, type, dependency,
                 jsonb_build_object('customer', 'c-' || (g %% 50000), 'amount', g %% 1000,
                                    'ref', 'r' || g),
                 status, attempts, 5,
                 CASE status WHEN 'RETRY_WAIT' THEN now() + rd * interval '10 minutes'
                             WHEN 'PENDING' THEN now() - rd * interval '5 seconds'
                             ELSE created END,
                 30000,
                 CASE WHEN status = 'SUCCEEDED' THEN '{"ok": true}'::jsonb END,
                 error,
                 CASE WHEN g %% 5 = 0 THEN 'order-' || g END,
                 CASE WHEN attempts > 0 THEN 'worker-' || (1 + g %% 20) END,
                 created,
                 coalesce(fin, first_start, created),
                 first_start,
                 fin,
                 attempts
          FROM (SELECT t.*,
                       CASE WHEN status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN
                         least(now(), coalesce(first_start + (attempts - 1) * interval '30 seconds'
                                               + took, created + took))
                       END AS fin
                FROM timed t) x
          RETURNING id, status, attempts, worker_id, started_at, finished_at, last_error
        )
        INSERT INTO ferry.job_attempts (job_id, attempt, worker_id, started_at, finished_at,
                                        outcome, error)
        SELECT j.id, a, j.worker_id, j.started_at + (a - 1) * interval '30 seconds',
               CASE WHEN a < j.attempts THEN j.started_at + (a - 1) * interval '30 seconds'
                                             + interval '800 milliseconds'
                    WHEN j.status = 'RUNNING' THEN NULL
                    ELSE coalesce(j.finished_at, j.started_at + (a - 1) * interval '30 seconds'
                                                 + interval '800 milliseconds') END,
               CASE WHEN a < j.attempts THEN 'FAILED'
                    WHEN j.status = 'RUNNING' THEN NULL
                    WHEN j.status = 'RETRY_WAIT' THEN 'FAILED'
                    ELSE j.status END,
               CASE WHEN a < j.attempts THEN coalesce(j.last_error, 'timeout after 30000 ms')
                    WHEN j.status IN ('FAILED', 'RETRY_WAIT') THEN j.last_error END
        FROM j, generate_series(1, j.attempts) AS a
        """
        .formatted(
            from,
            to,
            bigStart,
            bigEnd,
            smallStart,
            smallEnd,
            SMALL_PARENT_CHILDREN,
            sqlArray(TYPES),
            sqlArray(DEPENDENCIES));
  }

  /** The fan-out parents (no type), their counters and status from their children. */
  private static final String PARENTS_SQL =
      """
      INSERT INTO ferry.jobs (id, type, payload, status, attempts, max_attempts, next_run_at,
                              timeout_ms, created_at, updated_at, finished_at, children_total,
                              children_done, children_failed)
      SELECT parent_id, NULL, jsonb_build_object('batch', left(parent_id::text, 8)),
             CASE WHEN live > 0 THEN 'WAITING_CHILDREN' WHEN failed > 0 THEN 'FAILED'
                  ELSE 'SUCCEEDED' END,
             0, 1, first - interval '1 second', 30000, first - interval '1 second', last,
             CASE WHEN live = 0 THEN last END, total, done, failed
      FROM (SELECT parent_id, count(*) AS total,
                   count(*) FILTER (WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) AS done,
                   count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED')) AS failed,
                   count(*) FILTER (WHERE status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
                     AS live,
                   min(created_at) AS first, max(updated_at) AS last
            FROM ferry.jobs WHERE parent_id IS NOT NULL GROUP BY parent_id) c
      """;

  private static String activitySql() {
    return """
        INSERT INTO ferry.job_activity (minute, type, succeeded, failed, retried)
        SELECT date_trunc('minute', now()) - m * interval '1 minute', t,
               (100 + random() * 400)::int, (random() * 15)::int, (random() * 25)::int
        FROM generate_series(0, 119) AS m, unnest(%s) AS t
        """
        .formatted(sqlArray(TYPES));
  }

  private static final String BREAKERS_SQL =
      """
      INSERT INTO ferry.circuit_breakers (dependency, state, opened_at, retry_at, failure_rate,
                                          window_calls, window_failures, trips, state_since,
                                          last_reason, generation, epoch)
      VALUES ('payments-api', 'OPEN', now() - interval '40 seconds',
              now() + interval '20 seconds', 0.62, 50, 31, 7, now() - interval '40 seconds',
              'failure rate 62% over 50 calls', 14, 14),
             ('partner-webhooks', 'HALF_OPEN', now() - interval '3 minutes', NULL, 0.5, 20, 10,
              2, now() - interval '5 seconds', 'retry time reached', 5, 6),
             ('smtp-relay', 'CLOSED', NULL, NULL, 0.01, 100, 1, 1, now() - interval '2 days',
              'trial calls succeeded', 3, 3),
             ('sms-gateway', 'CLOSED', NULL, NULL, 0.0, 80, 0, 0, now() - interval '6 days',
              NULL, 0, 0),
             ('search-cluster', 'CLOSED', NULL, NULL, 0.04, 100, 4, 0, now() - interval '6 days',
              NULL, 0, 0)
      """;

  private static final String WORKERS_SQL =
      """
      INSERT INTO ferry.workers (id, host, started_at, heartbeat_at, concurrency, in_flight,
                                 stopped_at)
      SELECT 'worker-' || n, 'ferry-worker-' || n || '.prod.internal',
             now() - interval '1 day' - n * interval '1 minute',
             CASE WHEN n > 17 THEN now() - interval '2 hours'
                  ELSE now() - random() * interval '2 seconds' END,
             256, CASE WHEN n > 17 THEN 0 ELSE (random() * 256)::int END,
             CASE WHEN n > 18 THEN now() - interval '2 hours' END
      FROM generate_series(1, 20) AS n
      """;

  private static final String REJECTED_SQL =
      """
      INSERT INTO ferry.rejected_submissions (topic, partition, "offset", reason, raw, received_at)
      SELECT 'ferry.submit', n % 12, 1000 + n,
             (ARRAY['not JSON: Unexpected character (''<'' (code 60))',
                    'missing field "type"',
                    'unknown job type "emial.send"',
                    'payload is larger than 1048576 bytes',
                    'maxAttempts must be >= 1',
                    'id is not a UUID: "42"'])[1 + n % 6],
             CASE n % 6
               WHEN 0 THEN '<html><body>' || repeat('oops ', n % 200) || '</body></html>'
               ELSE '{"type": "email.send", "payload": {"to": "user' || n || '@example.com",'
                    || ' "body": "' || repeat('x', (n % 50) * 100) || '"}}'
             END,
             now() - random() * interval '7 days'
      FROM generate_series(1, 1000) AS n
      """;
}
