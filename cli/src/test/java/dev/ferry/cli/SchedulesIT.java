package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.schedule.ScheduleStore;
import dev.ferry.orchestrator.schedule.Scheduler;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Recurring schedules (DESIGN section 11) through real Kafka and PostgreSQL. */
@ExtendWith(FerryExtension.class)
class SchedulesIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** The job 'ferry schedules trigger' made (not a tick). */
  private static final AtomicReference<UUID> triggered = new AtomicReference<>();

  private static String schedule(String name, String cron, String extra) {
    return "{\"type\":\"echo\",\"payload\":{\"from\":\""
        + name
        + "\"}"
        + extra
        + ",\"schedule\":{\"name\":\""
        + name
        + "\",\"cron\":\""
        + cron
        + "\"}}";
  }

  /** The ticks (next_run_at) of a schedule's jobs, each checked against its derived id. */
  private static List<Instant> ticks(FerryTestEnv env, String name) throws Exception {
    List<Instant> out = new ArrayList<>();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, next_run_at FROM ferry.jobs WHERE schedule_name = ?"
                    + " ORDER BY next_run_at")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Instant tick = rs.getTimestamp("next_run_at").toInstant();
          UUID id = rs.getObject("id", UUID.class);
          if (id.equals(triggered.get())) {
            continue; // made by 'ferry schedules trigger', not by a tick
          }
          assertThat(id).as("the id of tick %s", tick).isEqualTo(Scheduler.tickId(name, tick));
          out.add(tick);
        }
      }
    }
    return out;
  }

  private static void assertEverySecond(List<Instant> ticks) {
    for (int i = 1; i < ticks.size(); i++) {
      assertThat(Duration.between(ticks.get(i - 1), ticks.get(i)))
          .as("tick %d after %s: none skipped, none twice", i, ticks.get(i - 1))
          .isEqualTo(Duration.ofSeconds(1));
    }
  }

  @Test
  void everySecond_twoOrchestrators_oneJobPerTick_evenAcrossAKill9(FerryTestEnv env)
      throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Process other =
        Harness.ferryProcess(
            env, config, Map.of(), Files.createTempFile("ferry-orch-b", ".log"), "orchestrator");
    Harness.worker(env, config);
    Harness.submitRaw(env, config, null, schedule("tick", "* * * * * *", ""));
    await().atMost(WAIT).until(() -> ticks(env, "tick").size() >= 5);
    other.destroyForcibly(); // kill -9
    other.waitFor();
    int before = ticks(env, "tick").size();
    await().atMost(WAIT).until(() -> ticks(env, "tick").size() >= before + 5);
    List<Instant> ticks = ticks(env, "tick");
    assertEverySecond(ticks);
    // They ran: every tick's job succeeded or is about to.
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE schedule_name = 'tick'"
                            + " AND status = 'SUCCEEDED' AND next_run_at <= ?",
                        java.sql.Timestamp.from(ticks.get(ticks.size() - 1)))
                    >= ticks.size());
  }

  @Test
  void afterThreeMissedTicks_skipMakesNone_runOnceMakesOne(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config().with(Setting.SCHEDULE_MISFIRE_GRACE_MS, "1000");
    Orchestrator first = Orchestrator.start(config);
    try {
      Harness.submitRaw(env, config, null, schedule("skipper", "* * * * * *", ""));
      Harness.submitRaw(
          env,
          config,
          null,
          schedule("catcher", "* * * * * *", "").replace("}}", ",\"misfire\":\"run-once\"}}"));
      await()
          .atMost(WAIT)
          .until(() -> ticks(env, "skipper").size() >= 1 && ticks(env, "catcher").size() >= 1);
    } finally {
      first.close();
    }
    // No orchestrator runs for four ticks (and then some: the next one starts in a second).
    Instant missedFrom;
    try (Connection c = env.dataSource().getConnection();
        var st = c.createStatement();
        var rs = st.executeQuery("SELECT max(next_fire_at) FROM ferry.schedules")) {
      rs.next();
      missedFrom = rs.getTimestamp(1).toInstant();
    }
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.schedules WHERE next_fire_at = ?",
                java.sql.Timestamp.from(missedFrom)))
        .isEqualTo(2);
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM (SELECT 1 WHERE now() > ?::timestamptz"
                            + " + interval '4600 milliseconds') x",
                        java.sql.Timestamp.from(missedFrom))
                    == 1);
    int skipperBefore = ticks(env, "skipper").size();
    int catcherBefore = ticks(env, "catcher").size();
    Harness.orchestrator(env, config);
    await()
        .atMost(WAIT)
        .until(
            () ->
                ticks(env, "skipper").size() >= skipperBefore + 2
                    && ticks(env, "catcher").size() >= catcherBefore + 3);
    Set<Instant> missed = new HashSet<>();
    for (int s = 0; s < 4; s++) {
      missed.add(missedFrom.plusSeconds(s));
    }
    assertThat(ticks(env, "skipper")).doesNotContainAnyElementsOf(missed);
    List<Instant> caught = new ArrayList<>(ticks(env, "catcher"));
    caught.retainAll(missed);
    assertThat(caught)
        .as("one catch-up job, for the first missed tick")
        .containsExactly(missedFrom);
  }

  @Test
  void pauseResumeTriggerReplaceDelete(FerryTestEnv env) throws Exception {
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    Harness.submitRaw(env, config, null, schedule("flip", "* * * * * *", ""));
    await().atMost(WAIT).until(() -> ticks(env, "flip").size() >= 2);
    String[] db = dbFlags(config);

    // A definition that cannot fire is rejected input, with its reason.
    Harness.submitRaw(env, config, null, schedule("broken", "61 * * * *", ""));
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.rejected_submissions"
                            + " WHERE reason LIKE 'field ''schedule.cron'' is not valid%'")
                    == 1);
    assertThat(
            Harness.count(
                env.dataSource(), "SELECT count(*) FROM ferry.schedules WHERE name = 'broken'"))
        .isZero();

    Harness.Run list = Harness.cli(concat(new String[] {"schedules"}, db));
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains("flip").contains("* * * * * *").contains("(1 schedules)");

    assertThat(Harness.cli(concat(new String[] {"schedules", "pause", "flip"}, db)).out())
        .contains("paused");
    int paused = ticks(env, "flip").size();
    await()
        .during(Duration.ofMillis(2500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> ticks(env, "flip").size() <= paused + 1); // one may have been in flight

    Harness.Run trigger = Harness.cli(concat(new String[] {"schedules", "trigger", "flip"}, db));
    assertThat(trigger.exit()).isZero();
    triggered.set(UUID.fromString(trigger.out().strip()));
    Harness.awaitStatus(env.dataSource(), triggered.get(), "SUCCEEDED");
    assertThat(
            Harness.count(
                env.dataSource(),
                "SELECT count(*) FROM ferry.jobs WHERE id = ? AND schedule_name = 'flip'",
                triggered.get()))
        .isEqualTo(1);
    Harness.Run status =
        Harness.cli(concat(new String[] {"status", triggered.get().toString()}, db));
    assertThat(status.out()).containsPattern("schedule:\\s+flip");

    assertThat(Harness.cli(concat(new String[] {"schedules", "resume", "flip"}, db)).out())
        .contains("resumed");
    int resumed = ticks(env, "flip").size();
    await().atMost(WAIT).until(() -> ticks(env, "flip").size() >= resumed + 2);

    // Replaced while it runs: every two seconds, a new payload.
    Harness.submitRaw(
        env,
        config,
        null,
        schedule("flip", "*/2 * * * * *", "").replace("\"from\":\"flip\"", "\"from\":\"flip-2\""));
    await()
        .atMost(WAIT)
        .until(
            () ->
                Harness.count(
                        env.dataSource(),
                        "SELECT count(*) FROM ferry.jobs WHERE schedule_name = 'flip'"
                            + " AND payload->>'from' = 'flip-2'")
                    >= 2);
    try (Connection c = env.dataSource().getConnection();
        var st = c.createStatement();
        var rs =
            st.executeQuery(
                "SELECT next_run_at FROM ferry.jobs WHERE schedule_name = 'flip'"
                    + " AND payload->>'from' = 'flip-2'")) {
      while (rs.next()) {
        assertThat(rs.getTimestamp(1).toInstant().getEpochSecond() % 2).isZero();
      }
    }

    assertThat(Harness.cli(concat(new String[] {"schedules", "delete", "flip"}, db)).out())
        .contains("deleted");
    int deleted = ticks(env, "flip").size();
    await()
        .during(Duration.ofMillis(3000))
        .atMost(Duration.ofSeconds(6))
        .until(() -> ticks(env, "flip").size() <= deleted + 1);
    assertThat(Harness.cli(concat(new String[] {"schedules", "pause", "flip"}, db)).exit())
        .as("no such schedule")
        .isEqualTo(1);
  }

  @Test
  void dst_dailyAt0230_firesOnceOnChangeDays_inParisAndNewYork(FerryTestEnv env) throws Exception {
    // The scheduler alone, on the real database, with a clock the test moves.
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-03-27T12:00:00Z"));
    Clock clock = movable(now);
    OrchestratorSettings settings = OrchestratorSettings.from(env.config());
    Scheduler scheduler =
        new Scheduler(
            env.dataSource(),
            new JobStore(),
            settings,
            Duration.ofDays(2),
            clock,
            new OrchestratorMetrics(new SimpleMeterRegistry(), 100));
    try (Connection c = env.dataSource().getConnection()) {
      c.setAutoCommit(false);
      new ScheduleStore()
          .upsert(
              c,
              List.of(
                  definition("paris", "Europe/Paris", now.get()),
                  definition("new-york", "America/New_York", now.get())));
      c.commit();
    }
    // Step through the spring of 2026 (Paris changes on March 29, New York on March 8: already
    // past, so New York also goes through the autumn below) an hour at a time.
    for (Instant t = now.get();
        t.isBefore(Instant.parse("2026-04-01T00:00:00Z"));
        t = t.plus(Duration.ofHours(1))) {
      now.set(t);
      scheduler.fireOnce();
    }
    assertThat(ticks(env, "paris"))
        .containsExactly(
            Instant.parse("2026-03-28T01:30:00Z"), // 02:30 CET
            Instant.parse("2026-03-29T01:00:00Z"), // 02:30 does not exist: at the change
            Instant.parse("2026-03-30T00:30:00Z"), // 02:30 CEST
            Instant.parse("2026-03-31T00:30:00Z"));
    now.set(Instant.parse("2026-10-30T12:00:00Z"));
    for (Instant t = now.get();
        t.isBefore(Instant.parse("2026-11-03T00:00:00Z"));
        t = t.plus(Duration.ofMinutes(30))) {
      now.set(t);
      scheduler.fireOnce();
    }
    List<Instant> ny = ticks(env, "new-york");
    assertThat(ny.subList(ny.size() - 3, ny.size()))
        .containsExactly(
            Instant.parse("2026-10-31T06:30:00Z"), // 02:30 EDT
            Instant.parse("2026-11-01T07:30:00Z"), // 02:30 EST, once (01:00-01:59 repeats)
            Instant.parse("2026-11-02T07:30:00Z"));
  }

  @Test
  void everyMinute_twoSchedulersFiringAtTheSameMoments_makeOneJobPerTick(FerryTestEnv env)
      throws Exception {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-28T00:00:30Z"));
    Clock clock = movable(now);
    OrchestratorSettings settings = OrchestratorSettings.from(env.config());
    List<Scheduler> schedulers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      schedulers.add(
          new Scheduler(
              env.dataSource(),
              new JobStore(),
              settings,
              Duration.ofDays(1),
              clock,
              new OrchestratorMetrics(new SimpleMeterRegistry(), 100)));
    }
    List<ScheduleStore.Definition> defs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      defs.add(definition("minute-" + i, "* * * * *", "UTC", now.get()));
    }
    try (Connection c = env.dataSource().getConnection()) {
      c.setAutoCommit(false);
      new ScheduleStore().upsert(c, defs);
      c.commit();
    }
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      for (int minute = 1; minute <= 10; minute++) {
        now.set(Instant.parse("2026-11-28T00:00:00.050Z").plus(Duration.ofMinutes(minute)));
        var start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<Integer>> rounds = new ArrayList<>();
        for (Scheduler s : schedulers) {
          rounds.add(
              pool.submit(
                  () -> {
                    start.await();
                    return s.fireOnce();
                  }));
        }
        start.countDown();
        int due = 0;
        for (var r : rounds) {
          due += r.get();
        }
        assertThat(due)
            .as("each schedule claimed by one scheduler, minute %d", minute)
            .isEqualTo(20);
      }
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < 20; i++) {
      List<Instant> ticks = ticks(env, "minute-" + i);
      assertThat(ticks).hasSize(10);
      for (int m = 0; m < 10; m++) {
        assertThat(ticks.get(m))
            .isEqualTo(Instant.parse("2026-11-28T00:01:00Z").plus(Duration.ofMinutes(m)));
      }
    }
  }

  private static Clock movable(AtomicReference<Instant> now) {
    return new Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now.get();
      }
    };
  }

  private static ScheduleStore.Definition definition(String name, String zone, Instant from) {
    return definition(name, "30 2 * * *", zone, from);
  }

  private static ScheduleStore.Definition definition(
      String name, String expression, String zone, Instant from) {
    var cron = dev.ferry.core.schedule.CronSchedule.parse(expression, zone);
    return new ScheduleStore.Definition(
        name,
        cron.expression(),
        zone,
        "{\"type\":\"echo\"}",
        "skip",
        true,
        cron.nextAfter(from).orElseThrow());
  }

  private static String[] dbFlags(FerryConfig c) {
    List<String> f = new ArrayList<>();
    for (Setting s : List.of(Setting.DB_URL, Setting.DB_USER, Setting.DB_PASSWORD)) {
      f.add(s.flag() + "=" + c.get(s));
    }
    return f.toArray(String[]::new);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
