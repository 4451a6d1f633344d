package dev.ferry.cli;

import static dev.ferry.cli.Harness.awaitStatus;
import static dev.ferry.cli.Harness.count;
import static dev.ferry.cli.Harness.job;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.orchestrator.admin.JobAdmin;
import dev.ferry.orchestrator.admin.Selection;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Persisted retry schedules, timeouts, snoozes, cancel and re-drive, end to end. */
@ExtendWith(FerryExtension.class)
class RetryIT {

  /** Fails the first {@code payload.failures} attempts of each job, then succeeds. */
  static final class FailsThenSucceeds implements JobHandler {
    final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    @Override
    public String type() {
      return "flaky";
    }

    @Override
    public JobResult handle(JobContext ctx) {
      runs.computeIfAbsent(ctx.jobId() + "#" + ctx.attempt(), k -> new AtomicInteger())
          .incrementAndGet();
      if (ctx.attempt() <= ctx.payload().path("failures").asInt()) {
        return JobResult.retry("transient failure " + ctx.attempt());
      }
      return JobResult.success(FerryJson.object().put("attempt", ctx.attempt()));
    }
  }

  private static String flaky(UUID id, int failures, String extra) {
    return "{\"id\":\""
        + id
        + "\",\"type\":\"flaky\",\"payload\":{\"failures\":"
        + failures
        + "}"
        + extra
        + "}";
  }

  private record AttemptTimes(int attempt, String outcome, Instant started, Instant finished) {}

  private static List<AttemptTimes> attempts(FerryTestEnv env, UUID id) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT attempt, outcome, started_at, finished_at FROM ferry.job_attempts"
                    + " WHERE job_id = ? ORDER BY attempt")) {
      ps.setObject(1, id);
      List<AttemptTimes> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Timestamp f = rs.getTimestamp(4);
          out.add(
              new AttemptTimes(
                  rs.getInt(1),
                  rs.getString(2),
                  rs.getTimestamp(3).toInstant(),
                  f == null ? null : f.toInstant()));
        }
      }
      return out;
    }
  }

  @Test
  void failsTwiceThenSucceeds_attemptsFollowTheSchedule(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config, new FailsThenSucceeds());
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        flaky(
            id,
            2,
            ",\"maxAttempts\":5,\"backoff\":"
                + "{\"strategy\":\"exponential\",\"initialMs\":300,\"multiplier\":2,\"jitter\":0}"));
    awaitStatus(env.dataSource(), id, "SUCCEEDED");

    List<AttemptTimes> a = attempts(env, id);
    assertThat(a)
        .extracting(AttemptTimes::outcome)
        .containsExactly("FAILED", "FAILED", "SUCCEEDED");
    long gap1 = Duration.between(a.get(0).finished(), a.get(1).started()).toMillis();
    long gap2 = Duration.between(a.get(1).finished(), a.get(2).started()).toMillis();
    // Never early; late by at most what a loaded 2-core machine adds (dispatch, poll, GC).
    assertThat(gap1).as("first retry after 300 ms").isBetween(300L, 300L + 1_500);
    assertThat(gap2).as("second retry after 600 ms").isBetween(600L, 600L + 1_500);
    Map<String, Object> row = job(env.dataSource(), id);
    assertThat(row.get("attempts")).isEqualTo(3);
    assertThat(FerryJson.parse((String) row.get("result_text")).path("attempt").asInt())
        .isEqualTo(3);
  }

  @Test
  void exhaustedAttempts_endFailedWithAFailedEvent(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config, new FailsThenSucceeds());
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        flaky(
            id,
            99,
            ",\"maxAttempts\":3,\"backoff\":"
                + "{\"strategy\":\"fixed\",\"initialMs\":50,\"maxMs\":50,\"jitter\":0}"));
    awaitStatus(env.dataSource(), id, "FAILED");
    assertThat((String) job(env.dataSource(), id).get("last_error"))
        .isEqualTo("attempt 3 of 3: transient failure 3");
    assertThat(attempts(env, id)).hasSize(3);
    List<ConsumerRecord<byte[], byte[]>> events =
        Harness.readTopic(env, Topics.withPrefix(config.topicPrefix()).events(), 3);
    assertThat(events)
        .extracting(e -> FerryJson.MAPPER.readTree(e.value()).path("status").asText())
        .containsExactly("RETRY_WAIT", "RETRY_WAIT", "FAILED");
  }

  @Test
  void nonRetryableFailure_usesExactlyOneAttempt(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + id
            + "\",\"type\":\"sleep\","
            + "\"payload\":{\"ms\":-1},\"maxAttempts\":5}");
    awaitStatus(env.dataSource(), id, "FAILED");
    assertThat(job(env.dataSource(), id).get("attempts")).isEqualTo(1);
    assertThat(attempts(env, id))
        .extracting(AttemptTimes::outcome)
        .containsExactly("NON_RETRYABLE");
  }

  @Test
  void timeout_isRecordedAndRetried(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    AtomicBoolean interrupted = new AtomicBoolean();
    JobHandler slowFirst =
        new JobHandler() {
          @Override
          public String type() {
            return "slow-first";
          }

          @Override
          public JobResult handle(JobContext ctx) {
            if (ctx.attempt() == 1) {
              try {
                TimeUnit.SECONDS.sleep(30);
              } catch (InterruptedException e) {
                interrupted.set(true);
                Thread.currentThread().interrupt();
              }
            }
            return JobResult.success(null);
          }
        };
    Harness.worker(env, config, slowFirst);
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + id
            + "\",\"type\":\"slow-first\","
            + "\"timeoutMs\":300,\"backoff\":{\"initialMs\":50,\"jitter\":0}}");
    awaitStatus(env.dataSource(), id, "SUCCEEDED");
    assertThat(attempts(env, id))
        .extracting(AttemptTimes::outcome)
        .containsExactly("TIMED_OUT", "SUCCEEDED");
    assertThat(interrupted).as("the handler was interrupted").isTrue();
  }

  @Test
  void snooze_runsAgainLaterWithoutUsingAnAttempt(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Set<UUID> snoozed = ConcurrentHashMap.newKeySet();
    AtomicInteger calls = new AtomicInteger();
    JobHandler snoozer =
        new JobHandler() {
          @Override
          public String type() {
            return "snoozer";
          }

          @Override
          public JobResult handle(JobContext ctx) {
            calls.incrementAndGet();
            if (snoozed.add(ctx.jobId())) {
              return JobResult.snooze(Duration.ofMillis(400));
            }
            return JobResult.success(FerryJson.object().put("attempt", ctx.attempt()));
          }
        };
    Harness.worker(env, config, snoozer);
    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env, config, null, "{\"id\":\"" + id + "\",\"type\":\"snoozer\",\"maxAttempts\":1}");
    awaitStatus(env.dataSource(), id, "SUCCEEDED");
    assertThat(calls.get()).isEqualTo(2);
    Map<String, Object> row = job(env.dataSource(), id);
    assertThat(row.get("attempts")).as("the snooze gave its attempt back").isEqualTo(1);
    assertThat(FerryJson.parse((String) row.get("result_text")).path("attempt").asInt())
        .isEqualTo(1);
    assertThat(attempts(env, id)).extracting(AttemptTimes::outcome).containsExactly("SUCCEEDED");
  }

  @Test
  void orchestratorRestart_waitingRetriesStillFire_overdueOnesAtOnce(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Orchestrator first = Orchestrator.start(config);
    Harness.worker(env, config, new FailsThenSucceeds());
    UUID overdue = UUID.randomUUID();
    UUID later = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        flaky(
            overdue,
            1,
            ",\"backoff\":"
                + "{\"strategy\":\"fixed\",\"initialMs\":1000,\"maxMs\":1000,\"jitter\":0}"));
    Harness.submitRaw(
        env,
        config,
        null,
        flaky(
            later,
            1,
            ",\"backoff\":"
                + "{\"strategy\":\"fixed\",\"initialMs\":9000,\"maxMs\":9000,\"jitter\":0}"));
    awaitStatus(env.dataSource(), overdue, "RETRY_WAIT");
    awaitStatus(env.dataSource(), later, "RETRY_WAIT");
    first.close();

    Instant overdueAt = nextRunAt(env, overdue);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Instant.now().isAfter(overdueAt.plusSeconds(1)));
    assertThat(Harness.status(env.dataSource(), overdue)).isEqualTo("RETRY_WAIT");
    Instant restart = Instant.now();
    Harness.orchestrator(env, config);

    awaitStatus(env.dataSource(), overdue, "SUCCEEDED");
    assertThat(Duration.between(restart, attempts(env, overdue).get(1).started()))
        .as("overdue retry fires right after the restart")
        .isLessThan(Duration.ofSeconds(10));
    Instant laterAt = nextRunAt(env, later);
    assertThat(laterAt).isAfter(Instant.now());
    awaitStatus(env.dataSource(), later, "SUCCEEDED");
    Duration lag = Duration.between(laterAt, attempts(env, later).get(1).started());
    assertThat(lag)
        .as("waiting retry fires at its time (never early)")
        .isBetween(Duration.ZERO, Duration.ofMillis(3_000));
  }

  @Test
  void twoOrchestrators_neverDispatchARetryTwice(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.orchestrator(env, config);
    FailsThenSucceeds handler = new FailsThenSucceeds();
    Harness.worker(env, config, handler);
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      UUID id = UUID.randomUUID();
      ids.add(id);
      Harness.submitRaw(
          env,
          config,
          null,
          flaky(
              id,
              1,
              ",\"backoff\":"
                  + "{\"strategy\":\"fixed\",\"initialMs\":100,\"maxMs\":100,\"jitter\":0}"));
    }
    await()
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'")
                    == ids.size());
    assertThat(handler.runs).hasSize(2 * ids.size());
    assertThat(handler.runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
  }

  @Test
  void cancelAndRetry_commandsAndBulkForms(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    CountDownLatch blockedStarted = new CountDownLatch(1);
    AtomicBoolean sawCancellation = new AtomicBoolean();
    AtomicInteger blockerRuns = new AtomicInteger();
    JobHandler blocker =
        new JobHandler() {
          @Override
          public String type() {
            return "blocker";
          }

          @Override
          public JobResult handle(JobContext ctx) {
            blockerRuns.incrementAndGet();
            blockedStarted.countDown();
            try {
              TimeUnit.MINUTES.sleep(5);
            } catch (InterruptedException e) {
              sawCancellation.set(ctx.isCancelled());
              Thread.currentThread().interrupt();
            }
            return JobResult.success(null);
          }
        };
    Harness.worker(env, config, blocker, new FailsThenSucceeds());
    JobAdmin admin = new JobAdmin();

    // A running job: cancelled in the database at once, its handler interrupted.
    UUID running = UUID.randomUUID();
    Harness.submitRaw(env, config, null, "{\"id\":\"" + running + "\",\"type\":\"blocker\"}");
    assertThat(blockedStarted.await(60, TimeUnit.SECONDS)).isTrue();
    awaitStatus(env.dataSource(), running, "RUNNING");
    try (Connection c = env.dataSource().getConnection()) {
      assertThat(admin.cancel(c, new Selection(List.of(running), null, null))).hasSize(1);
    }
    assertThat(Harness.status(env.dataSource(), running)).isEqualTo("CANCELLED");
    await().atMost(Duration.ofSeconds(30)).untilTrue(sawCancellation);

    // A scheduled job: cancelled before it ever runs.
    UUID scheduled = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\""
            + scheduled
            + "\",\"type\":\"flaky\","
            + "\"runAt\":\""
            + Instant.now().plusSeconds(3600)
            + "\"}");
    await().atMost(Duration.ofSeconds(30)).until(() -> job(env.dataSource(), scheduled) != null);
    Harness.Run cancelled =
        Harness.cli(
            "cancel",
            "--db-url=" + env.database().url(),
            "--db-user=" + env.database().user(),
            "--db-password=" + env.database().password(),
            "--kafka-bootstrap-servers=" + env.bootstrapServers(),
            "--topic-prefix=" + config.topicPrefix(),
            scheduled.toString());
    assertThat(cancelled.exit()).isZero();
    assertThat(cancelled.out()).contains("Cancelled 1 job.").contains(scheduled.toString());
    assertThat(Harness.status(env.dataSource(), scheduled)).isEqualTo("CANCELLED");
    assertThat(job(env.dataSource(), scheduled).get("attempts")).isEqualTo(0);

    // Three exhausted jobs of type flaky: re-driven in bulk, they get more attempts and succeed.
    List<UUID> failed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      UUID id = UUID.randomUUID();
      failed.add(id);
      Harness.submitRaw(env, config, null, flaky(id, 2, ",\"maxAttempts\":1"));
    }
    for (UUID id : failed) {
      awaitStatus(env.dataSource(), id, "FAILED");
    }
    Harness.Run retried =
        Harness.cli(
            "retry",
            "--db-url=" + env.database().url(),
            "--db-user=" + env.database().user(),
            "--db-password=" + env.database().password(),
            "--kafka-bootstrap-servers=" + env.bootstrapServers(),
            "--topic-prefix=" + config.topicPrefix(),
            "--status",
            "FAILED",
            "--type",
            "flaky",
            "--attempts",
            "3");
    assertThat(retried.out()).contains("Re-drove 3 jobs.");
    for (UUID id : failed) {
      awaitStatus(env.dataSource(), id, "SUCCEEDED");
      Map<String, Object> row = job(env.dataSource(), id);
      assertThat(row.get("attempts")).isEqualTo(3);
      assertThat(row.get("max_attempts")).isEqualTo(4);
      assertThat(attempts(env, id))
          .extracting(AttemptTimes::outcome)
          .containsExactly("FAILED", "FAILED", "SUCCEEDED");
    }
    // The cancelled scheduled job can be re-driven too; the running one stays cancelled.
    try (Connection c = env.dataSource().getConnection()) {
      assertThat(admin.retry(c, new Selection(List.of(scheduled), null, null), 1)).hasSize(1);
    }
    awaitStatus(env.dataSource(), scheduled, "SUCCEEDED");
    assertThat(Harness.status(env.dataSource(), running)).isEqualTo("CANCELLED");
    assertThat(blockerRuns.get()).as("no further attempt of the cancelled job").isEqualTo(1);
  }

  private static Instant nextRunAt(FerryTestEnv env, UUID id) throws Exception {
    return ((Timestamp) job(env.dataSource(), id).get("next_run_at")).toInstant();
  }
}
