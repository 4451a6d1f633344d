package dev.ferry.core.flow;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fleet-wide rate limit: at most {@code limit} starts in any window of {@code period} (DESIGN
 * section 11). Written {@code <limit>/<period>}: {@code 100/1s}, {@code 50/500ms}, {@code 1000/1m},
 * {@code 10000/1h}; a period without a number means 1 of its unit ({@code 100/s}).
 */
public record Rate(int limit, Duration period) {
  private static final Pattern TEXT =
      Pattern.compile("\\s*(\\d{1,9})\\s*/\\s*(\\d{0,9})\\s*(ms|s|m|h)\\s*");

  /** Longest period: a day. */
  public static final Duration MAX_PERIOD = Duration.ofDays(1);

  public Rate {
    if (limit < 1) {
      throw new IllegalArgumentException("a rate's limit must be at least 1 but was " + limit);
    }
    if (period.isNegative() || period.isZero() || period.compareTo(MAX_PERIOD) > 0) {
      throw new IllegalArgumentException(
          "a rate's period must be from 1 ms to 24 h but was " + period.toMillis() + " ms");
    }
  }

  /**
   * Parses {@code <limit>/<period>}.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static Rate parse(String text) {
    Matcher m = TEXT.matcher(text == null ? "" : text.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "a rate is <limit>/<period> such as 100/1s, 50/500ms or 1000/1m, not '" + text + "'");
    }
    long n = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    Duration period =
        switch (m.group(3)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
    return new Rate(Integer.parseInt(m.group(1)), period);
  }

  /** As written by {@link #parse}: {@code 100/1000ms}. */
  @Override
  public String toString() {
    return limit + "/" + period.toMillis() + "ms";
  }
}
