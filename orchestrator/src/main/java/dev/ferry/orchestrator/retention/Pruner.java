package dev.ferry.orchestrator.retention;

import dev.ferry.orchestrator.loop.Failures;
import dev.ferry.orchestrator.loop.PeriodicLoop;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: deletes what is older than {@code retention.ms} in small batches, one transaction
 * each, so that the database stays small without stalling the hot path.
 *
 * <ul>
 *   <li>finished jobs ({@code SUCCEEDED}, {@code FAILED}, {@code CANCELLED}, by {@code
 *       finished_at}) with their attempts, leaves first: a job is deleted only when it has no
 *       children left and its parent (if any) is finished and old enough too, so a parent goes only
 *       after its whole tree, and a child never before its parent has finished;
 *   <li>rejected submissions (by {@code received_at});
 *   <li>rows of workers that stopped (by {@code stopped_at}).
 * </ul>
 *
 * <p>Exactly one orchestrator prunes at a time: each batch first takes a transaction-scoped
 * advisory lock with {@code pg_try_advisory_xact_lock}; an orchestrator that does not get it skips
 * its round. Rows are taken with {@code FOR UPDATE SKIP LOCKED}, so a job being re-driven at that
 * moment is left alone.
 */
public final class Pruner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pruner.class);

  /** The advisory lock of the pruning orchestrator. */
  public static final long RETENTION_LOCK = 0x4665727279_02L;

  private static final String PICK_JOBS =
      """
      SELECT j.id FROM ferry.jobs j
      WHERE j.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND j.finished_at < ?
        AND NOT EXISTS (SELECT 1 FROM ferry.jobs c WHERE c.parent_id = j.id)
        AND (j.parent_id IS NULL
             OR NOT EXISTS (SELECT 1 FROM ferry.jobs p WHERE p.id = j.parent_id
                            AND NOT (p.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                                     AND p.finished_at < ?)))
        -- jobs whose deletion the database refused (e.g. a user's foreign key): kept
        AND NOT (j.id = ANY(?::uuid[]))
      ORDER BY j.finished_at
      LIMIT ?
      FOR UPDATE OF j SKIP LOCKED
      """;

  /** What one batch deleted; {@code locked} when another orchestrator was pruning. */
  public record Batch(boolean locked, int jobs, int attempts, int rejected, int workers) {
    public int total() {
      return jobs + rejected + workers;
    }
  }

  private final DataSource dataSource;
  private final Duration age;
  private final int batchSize;
  private final Clock clock;
  private final Counter deletedJobs;
  private final Counter deletedAttempts;
  private final Counter deletedRejected;
  private final Counter errors;
  private final PeriodicLoop loop;
  private final Counter quarantined;

  /** Jobs whose deletion the database refused; bounded by {@link #MAX_KEPT}. */
  private final java.util.Set<UUID> kept = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static final int MAX_KEPT = 10_000;

  /** The first wait after a failed round: 1 s (or the interval, if shorter). */
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

  /** The longest wait after failed rounds: 1 min (or the interval, if shorter). */
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  /**
   * @param age what is older than this is deleted
   * @param batchSize most jobs (and rejected submissions) per transaction
   * @param interval pause between two rounds (a round deletes batches until nothing is left)
   */
  public Pruner(
      DataSource dataSource,
      Duration age,
      int batchSize,
      Duration interval,
      Clock clock,
      MeterRegistry metrics) {
    this.dataSource = dataSource;
    this.age = age;
    this.batchSize = batchSize;
    this.clock = clock;
    this.deletedJobs = counter(metrics, "jobs");
    this.deletedAttempts = counter(metrics, "attempts");
    this.deletedRejected = counter(metrics, "rejected_submissions");
    this.quarantined =
        Counter.builder("ferry.quarantined")
            .description("Records or jobs set aside because PostgreSQL or Kafka refused them")
            .tag("loop", "ferry-retention")
            .register(metrics);
    this.errors =
        Counter.builder("ferry.loop.errors")
            .description("Failures of background loops (each is logged and retried)")
            .tag("loop", "ferry-retention")
            .register(metrics);
    // After a failure: 1 s, 2 s, 4 s, … (plus jitter), growing no further than the interval.
    Duration firstBackoff = interval.compareTo(FIRST_BACKOFF) < 0 ? interval : FIRST_BACKOFF;
    Duration maxBackoff = interval.compareTo(MAX_BACKOFF) < 0 ? interval : MAX_BACKOFF;
    this.loop =
        new PeriodicLoop(
            "ferry-retention",
            interval,
            firstBackoff,
            maxBackoff,
            true,
            this::round,
            (e, retryInMs) -> {
              log.warn(
                  "Retention: database unavailable, retrying in {} ms: {}",
                  retryInMs,
                  e.toString());
              errors.increment();
            });
  }

  private static Counter counter(MeterRegistry metrics, String what) {
    return Counter.builder("ferry.retention.deleted")
        .description("Rows deleted by retention")
        .tag("what", what)
        .register(metrics);
  }

  public void start() {
    loop.start();
  }

  public boolean isAlive() {
    return loop.isAlive();
  }

  /** One round: batches until nothing old is left (or another orchestrator holds the lock). */
  private void round(java.util.function.BooleanSupplier running) throws SQLException {
    long deleted = 0;
    Batch b;
    do {
      b = pruneOnce();
      deleted += b.total();
    } while (running.getAsBoolean()
        && !b.locked()
        && (b.jobs() == batchSize || b.rejected() == batchSize));
    if (deleted > 0) {
      log.info("Retention: deleted {} rows older than {}", deleted, age);
    }
  }

  /** One batch in one transaction: at most {@code batchSize} jobs and rejected submissions. */
  public Batch pruneOnce() throws SQLException {
    Timestamp cutoff = Timestamp.from(clock.instant().minus(age));
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!tryLock(c)) {
          c.commit();
          return new Batch(true, 0, 0, 0, 0);
        }
        List<UUID> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(PICK_JOBS)) {
          ps.setTimestamp(1, cutoff);
          ps.setTimestamp(2, cutoff);
          ps.setArray(3, c.createArrayOf("uuid", kept.toArray()));
          ps.setInt(4, batchSize);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getObject("id", UUID.class));
            }
          }
        }
        int attempts = 0;
        int jobs = 0;
        if (!ids.isEmpty()) {
          try {
            int[] n = deleteJobs(c, ids);
            attempts = n[0];
            jobs = n[1];
          } catch (SQLException e) {
            if (Failures.classify(e) != Failures.Kind.RECORD) {
              throw e;
            }
            c.rollback();
            return pruneEach(ids, Failures.reason(e));
          }
        }
        int rejected;
        try (PreparedStatement ps =
            c.prepareStatement(
                """
            DELETE FROM ferry.rejected_submissions WHERE id IN (
              SELECT id FROM ferry.rejected_submissions WHERE received_at < ?
              ORDER BY received_at LIMIT ?)
            """)) {
          ps.setTimestamp(1, cutoff);
          ps.setInt(2, batchSize);
          rejected = ps.executeUpdate();
        }
        int workers;
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM ferry.workers WHERE stopped_at < ?")) {
          ps.setTimestamp(1, cutoff);
          workers = ps.executeUpdate();
        }
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM ferry.job_activity WHERE minute < ?")) {
          ps.setTimestamp(1, cutoff);
          ps.executeUpdate();
        }
        // Expired unique.forMs keys hold nothing: deleted whatever the retention.
        try (PreparedStatement ps =
            c.prepareStatement(
                // expires_at is checked again on the row it deletes: a key taken meanwhile stays.
                "DELETE FROM ferry.unique_keys WHERE expires_at < now() AND key IN (SELECT key"
                    + " FROM ferry.unique_keys WHERE expires_at < now() LIMIT ?)")) {
          ps.setInt(1, batchSize);
          ps.executeUpdate();
        }
        c.commit();
        deletedJobs.increment(jobs);
        deletedAttempts.increment(attempts);
        deletedRejected.increment(rejected);
        return new Batch(false, jobs, attempts, rejected, workers);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Deletes jobs with their attempts; returns {attempts, jobs} deleted. */
  private static int[] deleteJobs(Connection c, List<UUID> ids) throws SQLException {
    Object[] idArray = ids.toArray();
    int attempts;
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM ferry.job_attempts WHERE job_id = ANY(?::uuid[])")) {
      ps.setArray(1, c.createArrayOf("uuid", idArray));
      attempts = ps.executeUpdate();
    }
    int jobs;
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM ferry.jobs WHERE id = ANY(?::uuid[])")) {
      ps.setArray(1, c.createArrayOf("uuid", idArray));
      jobs = ps.executeUpdate();
    }
    return new int[] {attempts, jobs};
  }

  /**
   * The batch failed because of some job's data (PostgreSQL refused a delete, e.g. a user's foreign
   * key points at it): each job is deleted in its own transaction, and one the database refuses is
   * kept (logged, counted in {@code ferry_quarantined_total{loop="ferry-retention"}}) and not
   * picked again by this process.
   */
  private Batch pruneEach(List<UUID> ids, String batchReason) throws SQLException {
    log.warn(
        "Retention: a batch of {} jobs failed because of its data ({}); deleting them one"
            + " at a time",
        ids.size(),
        batchReason);
    int attempts = 0;
    int jobs = 0;
    for (UUID id : ids) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          if (!tryLock(c)) {
            c.commit();
            break;
          }
          int[] n = deleteJobs(c, List.of(id));
          c.commit();
          attempts += n[0];
          jobs += n[1];
        } catch (SQLException e) {
          c.rollback();
          if (Failures.classify(e) != Failures.Kind.RECORD) {
            throw e;
          }
          if (kept.size() >= MAX_KEPT) {
            kept.clear(); // forgotten ones are tried (and kept) again
          }
          kept.add(id);
          quarantined.increment();
          log.warn(
              "Retention: job {} is kept: the database refused to delete it: {}",
              id,
              Failures.reason(e));
        }
      }
    }
    deletedJobs.increment(jobs);
    deletedAttempts.increment(attempts);
    return new Batch(false, jobs, attempts, 0, 0);
  }

  private static boolean tryLock(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT pg_try_advisory_xact_lock(?) AS locked")) {
      ps.setLong(1, RETENTION_LOCK);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean("locked");
      }
    }
  }

  @Override
  public void close() {
    loop.close();
  }
}
