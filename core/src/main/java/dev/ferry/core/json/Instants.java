package dev.ferry.core.json;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/**
 * Parses the instants on Ferry's topics. {@link Instant#parse} goes through the general {@code
 * DateTimeFormatter} machinery, which was a tenth of the outcome applier's CPU time in a profile;
 * the UTC shape that {@link Instant#toString()} writes ({@code 2026-11-26T07:45:12Z}, with 0 to 9
 * fraction digits) is parsed directly here, anything else by {@link Instant#parse}.
 */
public final class Instants {
  private Instants() {}

  /**
   * @throws DateTimeParseException if the text is not an ISO-8601 instant
   */
  public static Instant parse(String s) {
    int n = s.length();
    // yyyy-MM-ddTHH:mm:ss then optional .fffffffff then Z
    if (n < 20
        || n > 30
        || s.charAt(n - 1) != 'Z'
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return Instant.parse(s);
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 7);
    int day = digits(s, 8, 10);
    int hour = digits(s, 11, 13);
    int minute = digits(s, 14, 16);
    int second = digits(s, 17, 19);
    int nanos = 0;
    if (n > 20) {
      if (s.charAt(19) != '.' || n == 21) {
        return Instant.parse(s);
      }
      int f = digits(s, 20, n - 1);
      int len = n - 21;
      if (f < 0) {
        return Instant.parse(s);
      }
      nanos = f;
      for (int i = len; i < 9; i++) {
        nanos *= 10;
      }
    } else if (s.charAt(19) != 'Z') {
      return Instant.parse(s);
    }
    if (year < 0
        || month < 1
        || day < 1
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return Instant.parse(s); // out of range or not digits: let the JDK explain
    }
    long days;
    try {
      days = LocalDate.of(year, month, day).toEpochDay();
    } catch (java.time.DateTimeException e) {
      return Instant.parse(s);
    }
    return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
  }

  /** The decimal number in s[from, to), or -1 if a character is not a digit. */
  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
