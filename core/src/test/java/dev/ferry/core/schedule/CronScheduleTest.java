package dev.ferry.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronScheduleTest {
  private static List<Instant> fires(CronSchedule s, Instant from, int n) {
    List<Instant> out = new ArrayList<>();
    Instant t = from;
    for (int i = 0; i < n; i++) {
      t = s.nextAfter(t).orElseThrow();
      out.add(t);
    }
    return out;
  }

  private static Instant at(String local, String zone) {
    return LocalDateTime.parse(local).atZone(ZoneId.of(zone)).toInstant();
  }

  @ParameterizedTest
  @CsvSource({
    // zone, the day before spring-forward, the change (UTC), the day after at 02:30 (UTC)
    "Europe/Paris, 2026-03-28T12:00, 2026-03-28T01:30:00Z, 2026-03-29T01:00:00Z,"
        + " 2026-03-30T00:30:00Z",
    "America/New_York, 2026-03-07T12:00, 2026-03-07T07:30:00Z, 2026-03-08T07:00:00Z,"
        + " 2026-03-09T06:30:00Z"
  })
  void daily0230_onTheSpringForwardDay_firesOnceAtTheChange(
      String zone, String dayBefore, String before, String change, String after) {
    CronSchedule s = CronSchedule.parse("30 2 * * *", zone);
    Instant start = at(dayBefore, zone).minusSeconds(86_400);
    assertThat(fires(s, start, 3))
        .containsExactly(Instant.parse(before), Instant.parse(change), Instant.parse(after));
  }

  @ParameterizedTest
  @CsvSource({
    // Paris repeats 02:00-02:59 (03:00 CEST -> 02:00 CET): the first 02:30 is CEST.
    "30 2 * * *, Europe/Paris, 2026-10-24T12:00, 2026-10-25T00:30:00Z, 2026-10-26T01:30:00Z",
    // New York repeats 01:00-01:59 (02:00 EDT -> 01:00 EST): the first 01:30 is EDT...
    "30 1 * * *, America/New_York, 2026-10-31T12:00, 2026-11-01T05:30:00Z, 2026-11-02T06:30:00Z",
    // ... and its 02:30 happens once, in EST.
    "30 2 * * *, America/New_York, 2026-10-31T12:00, 2026-11-01T07:30:00Z, 2026-11-02T07:30:00Z"
  })
  void daily_inTheRepeatedHourOfTheFallBackDay_firesOnce(
      String cron, String zone, String dayBefore, String onTheDay, String dayAfter) {
    CronSchedule s = CronSchedule.parse(cron, zone);
    assertThat(fires(s, at(dayBefore, zone), 2))
        .containsExactly(Instant.parse(onTheDay), Instant.parse(dayAfter));
  }

  @Test
  void hourly_runsOnceInTheRepeatedHour_andAtTheSpringChange() {
    CronSchedule s = CronSchedule.parse("30 * * * *", "Europe/Paris");
    // Fall back 2026-10-25: 03:00 CEST becomes 02:00 CET; local 02:30 happens twice.
    assertThat(fires(s, Instant.parse("2026-10-24T23:00:00Z"), 3))
        .containsExactly(
            Instant.parse("2026-10-24T23:30:00Z"), // 01:30 CEST
            Instant.parse("2026-10-25T00:30:00Z"), // 02:30 CEST, the first one
            Instant.parse("2026-10-25T02:30:00Z")); // 03:30 CET
    // Spring forward 2026-03-29: 02:00 CET becomes 03:00 CEST.
    assertThat(fires(s, Instant.parse("2026-03-29T00:00:00Z"), 3))
        .containsExactly(
            Instant.parse("2026-03-29T00:30:00Z"), // 01:30 CET
            Instant.parse("2026-03-29T01:00:00Z"), // 02:30 skipped: at the change, 03:00 CEST
            Instant.parse("2026-03-29T01:30:00Z")); // 03:30 CEST
  }

  @Test
  void sixFields_haveSeconds_fiveFieldsStartWithMinutes_defaultZoneIsUtc() {
    Instant t = Instant.parse("2026-11-28T10:00:00.250Z");
    assertThat(fires(CronSchedule.parse("* * * * * *", null), t, 3))
        .containsExactly(
            Instant.parse("2026-11-28T10:00:01Z"),
            Instant.parse("2026-11-28T10:00:02Z"),
            Instant.parse("2026-11-28T10:00:03Z"));
    assertThat(fires(CronSchedule.parse("*/15 * * * *", ""), t, 2))
        .containsExactly(
            Instant.parse("2026-11-28T10:15:00Z"), Instant.parse("2026-11-28T10:30:00Z"));
    assertThat(CronSchedule.parse("  0   3 *  * * ", "UTC").expression()).isEqualTo("0 3 * * *");
  }

  @Test
  void badSchedules_areRefusedWithTheirReason() {
    assertThatThrownBy(() -> CronSchedule.parse("* * *", "UTC"))
        .hasMessageContaining("has 3 fields");
    assertThatThrownBy(() -> CronSchedule.parse("61 * * * *", "UTC"))
        .hasMessageContaining("'cron' is not valid");
    assertThatThrownBy(() -> CronSchedule.parse("0 3 * * *", "Mars/Olympus"))
        .hasMessageContaining("'timeZone' is not a time zone: 'Mars/Olympus'");
    assertThatThrownBy(() -> CronSchedule.parse("0 0 30 2 *", "UTC"))
        .hasMessageContaining("never fires");
    assertThatThrownBy(() -> CronSchedule.parse(" ", "UTC")).hasMessageContaining("required");
    assertThatThrownBy(() -> CronSchedule.parse("a b c d e", "UTC"))
        .hasMessageContaining("'cron' is not valid");
  }
}
