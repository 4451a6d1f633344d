package dev.ferry.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.Optional;

/**
 * When a schedule fires: a cron expression (five fields, {@code minute hour day-of-month month
 * day-of-week}, or six with seconds first) read in an IANA time zone's wall-clock time. Parsing and
 * matching are cron-utils' (UNIX and Spring 5.3 definitions).
 *
 * <p>Daylight-saving changes follow the wall clock, as cron does:
 *
 * <ul>
 *   <li>Every matching local time fires once. A local time the spring-forward change skips (02:30
 *       on the last Sunday of March in Europe/Paris) fires at the moment of the change (03:00
 *       local): a daily 02:30 job still runs that day, once.
 *   <li>A local time the fall-back change repeats (02:30 on the last Sunday of October) fires once,
 *       at its first occurrence: a daily 02:30 job does not run twice, and an hourly one runs once
 *       in the repeated hour.
 * </ul>
 */
public final class CronSchedule {
  private static final CronParser FIVE_FIELDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser SIX_FIELDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));

  /** The zone of a schedule without one (its id is "UTC", as the column's default). */
  private static final ZoneId UTC = ZoneId.of("UTC");

  private final String expression;
  private final ZoneId zone;
  private final ExecutionTime times;

  private CronSchedule(String expression, ZoneId zone, ExecutionTime times) {
    this.expression = expression;
    this.zone = zone;
    this.times = times;
  }

  /**
   * Parses {@code cron} in {@code timeZone} (null or blank: UTC).
   *
   * @throws IllegalArgumentException naming what is wrong: the number of fields, a field, the zone,
   *     or an expression that never fires
   */
  public static CronSchedule parse(String cron, String timeZone) {
    if (cron == null || cron.isBlank()) {
      throw new IllegalArgumentException("'cron' is required, e.g. \"0 3 * * *\"");
    }
    String expression = cron.strip().replaceAll("\\s+", " ");
    int fields = expression.split(" ").length;
    if (fields != 5 && fields != 6) {
      throw new IllegalArgumentException(
          "'cron' has "
              + fields
              + " fields; it takes five (minute hour day-of-month month day-of-week) or six"
              + " (seconds first)");
    }
    ZoneId zone;
    try {
      zone = timeZone == null || timeZone.isBlank() ? UTC : ZoneId.of(timeZone.strip());
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(
          "'timeZone' is not a time zone: '" + timeZone + "' (an IANA name such as Europe/Paris)");
    }
    Cron parsed;
    try {
      parsed = (fields == 5 ? FIVE_FIELDS : SIX_FIELDS).parse(expression);
      parsed.validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'cron' is not valid: " + e.getMessage());
    }
    CronSchedule s = new CronSchedule(expression, zone, ExecutionTime.forCron(parsed));
    Instant probe = Instant.parse("2000-01-01T00:00:00Z");
    if (s.nextLocal(LocalDateTime.ofInstant(probe, ZoneOffset.UTC)).isEmpty()) {
      throw new IllegalArgumentException("'cron' never fires: '" + expression + "'");
    }
    return s;
  }

  /** The expression, with its spaces normalised. */
  public String expression() {
    return expression;
  }

  public ZoneId zone() {
    return zone;
  }

  /** The first fire time strictly after {@code after}; empty if there is none. */
  public Optional<Instant> nextAfter(Instant after) {
    ZoneRules rules = zone.getRules();
    // Cron has whole seconds: from the second of `after`, the next match is strictly later.
    LocalDateTime from = LocalDateTime.ofInstant(after, zone).truncatedTo(ChronoUnit.SECONDS);
    while (true) {
      Optional<LocalDateTime> next = nextLocal(from);
      if (next.isEmpty()) {
        return Optional.empty();
      }
      LocalDateTime local = next.get();
      Instant at;
      var offsets = rules.getValidOffsets(local);
      if (offsets.isEmpty()) {
        // Skipped by a spring-forward change: fires at the change.
        ZoneOffsetTransition gap = rules.getTransition(local);
        at = gap.getInstant();
      } else {
        // In a fall-back overlap, the first occurrence (the earlier offset).
        at = local.toInstant(offsets.get(0));
      }
      if (at.isAfter(after)) {
        return Optional.of(at);
      }
      // A local time already passed: in the repeated hour, or skipped into a change at `after`.
      from = local;
    }
  }

  /** The next local wall-clock time matching the expression, strictly after {@code from}. */
  private Optional<LocalDateTime> nextLocal(LocalDateTime from) {
    // The expression is matched on the wall clock: a zone without transitions stands for it.
    return times
        .nextExecution(ZonedDateTime.of(from, ZoneOffset.UTC))
        .map(ZonedDateTime::toLocalDateTime);
  }

  @Override
  public String toString() {
    return expression + " (" + zone + ")";
  }
}
