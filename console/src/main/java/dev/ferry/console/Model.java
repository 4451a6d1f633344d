package dev.ferry.console;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** What the console shows: the JSON of the API (DESIGN section 10) and the pages' models. */
public final class Model {
  private Model() {}

  /**
   * A row of the jobs list. {@code waitingFor}: why the job does not start yet, from {@code
   * ferry.waiting_for(j)} (migration V13), null when it does not wait.
   */
  public record JobRow(
      UUID id,
      String status,
      String type,
      String dependency,
      int attempts,
      int maxAttempts,
      Instant createdAt,
      Instant finishedAt,
      String lastError,
      String waitingFor) {}

  /** One page of the jobs list and the cursor of the next ({@code null} on the last). */
  public record JobPage(List<JobRow> jobs, String next) {}

  /** An attempt of a job; {@code outcome} null while it runs. */
  public record Attempt(
      int attempt,
      String workerId,
      Instant startedAt,
      Instant finishedAt,
      String outcome,
      String error) {
    /** How long it ran (null while running or when a time is unknown). */
    @JsonIgnore
    public Long durationMs() {
      return startedAt == null || finishedAt == null
          ? null
          : finishedAt.toEpochMilli() - startedAt.toEpochMilli();
    }
  }

  /** A parent's children: how many, how many finished, how many of those did not succeed. */
  public record Children(long total, long done, long failed) {}

  /**
   * A job's flow-control fields (DESIGN section 11): {@code priority} 1 (most urgent) to 5, and its
   * fleet-wide concurrency key and limit (both null for a job without one). In the JSON they are
   * fields of the job itself.
   */
  public record FlowControl(int priority, String concurrencyKey, Integer concurrencyLimit) {
    /** The priority a submission without one gets. */
    public static final int DEFAULT_PRIORITY = 3;

    /** "3 (default)", or the bare number for any other priority. */
    public String priorityText() {
      return priority == DEFAULT_PRIORITY ? priority + " (default)" : String.valueOf(priority);
    }

    /** "key tenant-42, limit 1"; null for a job without a concurrency key. */
    public String concurrencyText() {
      return concurrencyKey == null
          ? null
          : "key " + concurrencyKey + ", limit " + concurrencyLimit;
    }
  }

  /**
   * A job with everything the detail page shows. {@code waitingFor}: why it does not start yet (see
   * {@link JobRow}), null when it does not wait.
   */
  public record JobDetail(
      UUID id,
      UUID parentId,
      String status,
      String waitingFor,
      String type,
      String dependency,
      String key,
      @JsonUnwrapped FlowControl flow,
      int attemptCount,
      int maxAttempts,
      Instant createdAt,
      Instant startedAt,
      Instant finishedAt,
      Instant nextRunAt,
      String workerId,
      String lastError,
      String traceparent,
      JsonNode payload,
      JsonNode result,
      List<Attempt> attempts,
      @JsonInclude(JsonInclude.Include.NON_NULL) Children children) {}

  /** A shared circuit breaker (a row of {@code ferry.circuit_breakers}). */
  public record Breaker(
      String dependency,
      String state,
      double failureRate,
      String window,
      int windowCalls,
      int trips,
      Instant since,
      Instant retryAt,
      String forced,
      String lastReason,
      long generation) {}

  /** A worker process (a row of {@code ferry.workers}); alive = heartbeat recent, not stopped. */
  public record Worker(
      String id,
      String host,
      Instant startedAt,
      Instant heartbeatAt,
      long heartbeatAgeMs,
      int concurrency,
      int inFlight,
      Instant stoppedAt,
      boolean alive) {}

  /** A submission intake set aside, with its reason and where it was on the topic. */
  public record Rejected(
      long id,
      String topic,
      int partition,
      long offset,
      String reason,
      String rawPreview,
      int rawLength,
      Instant receivedAt) {}

  /** One page of rejected submissions, newest first. */
  public record RejectedPage(List<Rejected> rejected, Long next) {}

  /** Finished attempts of a job type in the last 5 minutes and the last hour. */
  public record TypeActivity(
      String type,
      long succeeded5m,
      long failed5m,
      long retried5m,
      long succeeded1h,
      long failed1h,
      long retried1h) {}

  /** Jobs finished (succeeded or failed) and failed in one minute. */
  public record Minute(Instant minute, long finished, long failed) {}

  /**
   * Counts of jobs: by status, and by type and status. {@code estimated}: the table is large, so
   * the finished statuses' counts come from the table's statistics and {@code byType} holds the
   * live statuses only (exact).
   */
  public record Stats(
      java.util.Map<String, Long> byStatus,
      java.util.Map<String, java.util.Map<String, Long>> byType,
      boolean estimated) {}

  /** Everything the overview shows. */
  public record Overview(
      Stats stats,
      List<TypeActivity> activity,
      List<Minute> perMinute,
      Long queueLagMs,
      List<Breaker> breakers,
      int workersAlive,
      int inFlight,
      int capacity,
      long rejectedTotal,
      long rejectedLastHour,
      Instant at) {}

  /** What every page's layout needs. */
  public record Page(
      String title, String nav, String csrf, boolean readonly, boolean authOn, Instant now) {
    public int refreshMs() {
      return ConsoleServer.REFRESH_MS;
    }
  }

  /**
   * A dependency's fleet-wide limits (a row of {@code ferry.dependency_limits}): {@code rate} as
   * {@code <limit>/<period>} ({@code 50/1s}), null parts meaning no such limit.
   */
  public record Limit(String dependency, String rate, Integer maxConcurrent, Instant updatedAt) {}

  /**
   * What the Limits page shows: every limit, and per limited dependency how many of its jobs are
   * {@code QUEUED} or {@code RUNNING} now (absent: none).
   */
  public record Limits(List<Limit> limits, java.util.Map<String, Long> active) {
    public long active(String dependency) {
      return active.getOrDefault(dependency, 0L);
    }
  }
}
