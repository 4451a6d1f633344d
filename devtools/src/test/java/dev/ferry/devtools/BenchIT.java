package dev.ferry.devtools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code ferry bench} end to end on small runs: each scenario starts its own embedded Kafka and
 * PostgreSQL (and, for the memory scenarios, a worker JVM) and prints its RESULT line with the
 * durability it ran with.
 */
class BenchIT {
  @Test
  void throughputWithFloor_printsBothRatesTheRatioCpuAndDurability() {
    DevCli.Run r = DevCli.run("bench", "throughput", "--jobs", "2000", "--with-floor");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .containsPattern(
            "RESULT scenario=floor jobs=2000 seconds=[\\d.]+ jobs_per_s=[1-9]\\d*"
                + " .*cpu_us_per_job=[1-9]\\d* db=fsync=off,synchronous_commit=off")
        .containsPattern(
            "RESULT scenario=throughput jobs=2000 seconds=[\\d.]+"
                + " jobs_per_s=[1-9]\\d* .*cpu_us_per_job=[1-9]\\d* db=fsync=off")
        .containsPattern("RESULT scenario=throughput-vs-floor ratio=\\d+\\.\\d\\d")
        .contains("last outcome applied");
  }

  @Test
  void backlog_drainsInAWorkerJvmAndReportsItsMemory_withProductionDurability() {
    DevCli.Run r =
        DevCli.run(
            "bench", "backlog", "--jobs", "3000", "--heap-mb", "128", "--durability", "production");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("3,000 jobs queued")
        .containsPattern(
            "RESULT scenario=backlog jobs=3000 concurrency=100 queue_s=[\\d.]+"
                + " drain_s=[\\d.]+ drain_jobs_per_s=[1-9]\\d* heap_max_mb=1[0-2]\\d"
                + " heap_peak_mb=[1-9]\\d* heap_after_gc_peak_mb=\\d+ rss_peak_mb=[1-9]\\d*"
                + " db=fsync=on,synchronous_commit=on");
  }

  @Test
  void console_seedsTheDatabaseAndTimesEveryPageAndApiCall() {
    DevCli.Run r = DevCli.run("bench", "console", "--jobs", "20000", "--requests", "20");
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> paths =
        List.of(
            "/",
            "/fragments/overview",
            "/jobs",
            "/jobs?status=FAILED",
            "/jobs?type=payments.charge",
            "/jobs?q=503",
            "/jobs?status=FAILED&type=payments.charge&after={page-1-cursor}",
            "/jobs/{job}",
            "/jobs/{parent}",
            "/jobs/confirm?action=retry&status=FAILED",
            "/breakers",
            "/workers",
            "/rejected",
            "/schedules",
            "/limits",
            "/api/stats",
            "/api/overview",
            "/api/jobs",
            "/api/jobs?status=FAILED",
            "/api/jobs?q=503",
            "/api/jobs/{job}",
            "/api/jobs/{parent}",
            "/api/jobs/count?status=FAILED",
            "/api/breakers",
            "/api/workers",
            "/api/rejected");
    for (String path : paths) {
      assertThat(r.out())
          .containsPattern(
              "(?m)^RESULT scenario=console path="
                  + Pattern.quote(path)
                  + " p50_ms=\\d+\\.\\d p99_ms=\\d+\\.\\d max_ms=\\d+\\.\\d$")
          .containsPattern("(?m)^\\| " + Pattern.quote(path) + " +\\| +\\d+\\.\\d \\|");
    }
    assertThat(r.out())
        .contains("Seeding 20,000 jobs")
        .containsPattern("Seeded in [\\d.]+ s")
        .containsPattern(
            "RESULT scenario=console jobs=20000 rows=20\\d{3} seed_s=[\\d.]+ requests=20 paths="
                + paths.size()
                + " worst_p99_ms=[\\d.]+ worst_path=\\S+ over_target=\\d+ target_p99_ms=200"
                + " db=fsync=off,synchronous_commit=off");
  }

  @Test
  void schedules_measuresTheEverySecondLagAndTheSpreadOfManySchedulesOnOneTick() {
    DevCli.Run r =
        DevCli.run(
            "bench",
            "schedules",
            "--seconds",
            "5",
            "--warmup-s",
            "2",
            "--schedules",
            "200",
            "--cron",
            "*/5 * * * * *");
    assertThat(r.exit()).as(r.err()).isZero();
    String ms = "\\d+\\.\\d";
    assertThat(r.out())
        .containsPattern("  warm-up: \\d+ s left")
        .containsPattern("every-second hops p50/p99/max ms: tick→job row \\(scheduler\\) ")
        .containsPattern(
            "(?m)^RESULT scenario=schedules part=every-second orchestrators=2 ticks=5 expected=5"
                + " missing=0 duplicates=0 wrong_ids=0 not_started=0 lag_p50_ms="
                + ms
                + " lag_p99_ms="
                + ms
                + " lag_max_ms="
                + ms
                + " target_p99_ms=100 met=(true|false) db=fsync=off,synchronous_commit=off$")
        .contains("200 schedules stored")
        .containsPattern(
            "(?m)^RESULT scenario=schedules part=many tick=\\S+:\\d[05]Z schedules=200"
                + " created=200 duplicates=0 started=200 within_1s=\\d+ start_p50_ms="
                + ms
                + " start_p99_ms="
                + ms
                + " start_max_ms="
                + ms
                + " created_max_ms="
                + ms
                + "$")
        .containsPattern(
            "(?m)^RESULT scenario=schedules orchestrators=2 every_second_ticks=5 missing=0"
                + " duplicates=0 lag_p50_ms="
                + ms
                + " lag_p99_ms="
                + ms
                + " lag_max_ms="
                + ms
                + " schedules=200 cron=\\*/5_\\*_\\*_\\*_\\*_\\* define_s=[\\d.]+ ticks=2"
                + " created_min=200 many_duplicates=0 spread_p50_ms="
                + ms
                + " spread_p99_ms="
                + ms
                + " spread_max_ms="
                + ms
                + " every_second_met=(true|false) many_met=(true|false)"
                + " db=fsync=off,synchronous_commit=off$");
    assertThat(r.out().lines().filter(l -> l.startsWith("RESULT scenario=schedules part=many")))
        .hasSize(2);
  }

  @Test
  void unknownScenarioOrDurability_isNamed() {
    DevCli.Run r = DevCli.run("bench", "nope");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("unknown scenario 'nope'").contains("backlog");
    DevCli.Run d = DevCli.run("bench", "floor", "--durability", "maybe");
    assertThat(d.exit()).isNotZero();
    assertThat(d.err()).contains("--durability must be test or production, not 'maybe'");
  }
}
