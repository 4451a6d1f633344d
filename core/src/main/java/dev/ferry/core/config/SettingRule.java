package dev.ferry.core.config;

import java.util.Locale;
import java.util.Set;

/**
 * What values a {@link Setting} accepts, checked for every setting when a process starts ({@link
 * FerryConfig#validate()}). Pure and immutable.
 */
public sealed interface SettingRule {
  /** Any text (names, addresses, URLs). */
  SettingRule TEXT = new Text();

  /** {@code true/false}, {@code yes/no}, {@code 1/0}. */
  SettingRule BOOLEAN = new Bool();

  /**
   * What the value should have been, e.g. {@code "an integer between 1 and 10"}, or null when
   * {@code value} is acceptable.
   */
  String violation(String value);

  /** An integer in {@code [min, max]}. */
  static SettingRule integer(long min, long max) {
    return new IntRange(min, max);
  }

  /** A number in {@code [min, max]}. */
  static SettingRule number(double min, double max) {
    return new NumberRange(min, max);
  }

  /** One of {@code choices}, case-insensitively. */
  static SettingRule oneOf(String... choices) {
    return new OneOf(Set.of(choices));
  }

  /** Empty (a default chosen by the process), or an integer in {@code [min, max]}. */
  static SettingRule optionalInteger(long min, long max) {
    return new Optional(new IntRange(min, max));
  }

  record Text() implements SettingRule {
    @Override
    public String violation(String value) {
      return null;
    }
  }

  record Bool() implements SettingRule {
    @Override
    public String violation(String value) {
      return switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "true", "yes", "1", "false", "no", "0" -> null;
        default -> "true or false";
      };
    }
  }

  record IntRange(long min, long max) implements SettingRule {
    @Override
    public String violation(String value) {
      try {
        long n = Long.parseLong(value.trim());
        return n >= min && n <= max ? null : expected();
      } catch (NumberFormatException e) {
        return expected();
      }
    }

    private String expected() {
      return "an integer between " + min + " and " + max;
    }
  }

  record NumberRange(double min, double max) implements SettingRule {
    @Override
    public String violation(String value) {
      try {
        double d = Double.parseDouble(value.trim());
        return d >= min && d <= max ? null : expected();
      } catch (NumberFormatException e) {
        return expected();
      }
    }

    private String expected() {
      return "a number between " + min + " and " + max;
    }
  }

  record OneOf(Set<String> choices) implements SettingRule {
    @Override
    public String violation(String value) {
      return choices.contains(value.trim().toLowerCase(Locale.ROOT))
          ? null
          : "one of " + String.join(", ", new java.util.TreeSet<>(choices));
    }
  }

  record Optional(IntRange range) implements SettingRule {
    @Override
    public String violation(String value) {
      if (value.isBlank()) {
        return null;
      }
      String v = range.violation(value);
      return v == null ? null : "empty or " + v;
    }
  }

  /** Empty (no limit), or a rate {@code <limit>/<period>} ({@link dev.ferry.core.flow.Rate}). */
  SettingRule RATE = new RateText();

  record RateText() implements SettingRule {
    @Override
    public String violation(String value) {
      if (value.isBlank()) {
        return null;
      }
      try {
        dev.ferry.core.flow.Rate.parse(value);
        return null;
      } catch (IllegalArgumentException e) {
        return "empty or a rate <limit>/<period> from 1 ms to 24 h such as 100/1s";
      }
    }
  }
}
