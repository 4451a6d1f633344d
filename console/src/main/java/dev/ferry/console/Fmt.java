package dev.ferry.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.ferry.core.flow.Rate;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/** Formatting for the pages: relative times, durations, numbers, JSON, URLs, status badges. */
public final class Fmt {
  private Fmt() {}

  /** Characters of a rejected record shown in the list. */
  public static final int RAW_PREVIEW = ConsoleQueries.RAW_PREVIEW;

  /** See {@link ConsoleQueries#EXACT_COUNT_MAX_ROWS}. */
  public static final long EXACT_COUNT_MAX_ROWS = ConsoleQueries.EXACT_COUNT_MAX_ROWS;

  static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  /** "12 s ago", "3 min ago", "in 40 s"; "–" for none. */
  public static String ago(Instant t, Instant now) {
    if (t == null) {
      return "–";
    }
    long ms = Duration.between(t, now).toMillis();
    String span = span(Math.abs(ms));
    return ms >= 0 ? span + " ago" : "in " + span;
  }

  /** A duration: "830 ms", "4.2 s", "3 min", "2 h 5 min", "3 d". */
  public static String span(long ms) {
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    if (ms < 3_600_000) {
      return ms / 60_000 + " min";
    }
    if (ms < 86_400_000) {
      return ms / 3_600_000 + " h " + (ms % 3_600_000) / 60_000 + " min";
    }
    return ms / 86_400_000 + " d";
  }

  public static String ms(Long ms) {
    return ms == null ? "–" : span(ms);
  }

  public static String iso(Instant t) {
    return t == null ? "" : t.toString();
  }

  /** 1234567 → "1,234,567". */
  public static String n(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  public static String pct(double rate) {
    return String.format(Locale.ROOT, "%.1f %%", rate);
  }

  /** Pretty-printed JSON (escaped by the template like any other text). */
  public static String pretty(JsonNode node) {
    if (node == null) {
      return "null";
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (JsonProcessingException e) {
      return node.toString();
    }
  }

  /** Any value as JSON (for data attributes read by console.js). */
  public static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A rate as an operator writes it, in the largest unit that divides its period: {@code 50/1s},
   * {@code 20/500ms}, {@code 1000/1m}; {@link Rate#parse} reads it back. Null for none.
   */
  public static String rate(Rate rate) {
    if (rate == null) {
      return null;
    }
    long ms = rate.period().toMillis();
    String period;
    if (ms % 3_600_000 == 0) {
      period = ms / 3_600_000 + "h";
    } else if (ms % 60_000 == 0) {
      period = ms / 60_000 + "m";
    } else if (ms % 1000 == 0) {
      period = ms / 1000 + "s";
    } else {
      period = ms + "ms";
    }
    return rate.limit() + "/" + period;
  }

  /** The CSS class of a status badge. */
  public static String badge(String status) {
    return "badge s-" + (status == null ? "none" : status.toLowerCase(Locale.ROOT));
  }

  /** The trace id of a W3C traceparent ({@code 00-<trace id>-<span id>-<flags>}). */
  public static String traceId(String traceparent) {
    if (traceparent == null) {
      return null;
    }
    String[] parts = traceparent.split("-");
    return parts.length >= 2 ? parts[1] : traceparent;
  }

  /** {@code path} with the parameters as an encoded query string. */
  public static String url(String path, Map<String, String> params) {
    StringBuilder b = new StringBuilder(path);
    char sep = '?';
    for (var e : params.entrySet()) {
      if (e.getValue() == null) {
        continue;
      }
      b.append(sep).append(enc(e.getKey())).append('=').append(enc(e.getValue()));
      sep = '&';
    }
    return b.toString();
  }

  /** The parameters with one more. */
  public static Map<String, String> with(Map<String, String> params, String name, String value) {
    var p = new java.util.LinkedHashMap<String, String>(params);
    p.put(name, value);
    return p;
  }

  /** {@code path} with name/value pairs as an encoded query string. */
  public static String link(String path, String... nameValues) {
    var p = new java.util.LinkedHashMap<String, String>();
    for (int i = 0; i + 1 < nameValues.length; i += 2) {
      p.put(nameValues[i], nameValues[i + 1]);
    }
    return url(path, p);
  }

  /** {@code /jobs} with the filter and one more parameter (e.g. the cursor). */
  public static String jobsUrl(JobFilter f, String name, String value) {
    var p = f.params();
    if (name != null) {
      p.put(name, value);
    }
    return url("/jobs", p);
  }

  public static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A value as one path segment: encoded, dots too ({@code ..} is not a step up). */
  public static String segment(String s) {
    return enc(s).replace(".", "%2E");
  }

  /** Text cut to {@code max} characters with an ellipsis. */
  public static String cut(String s, int max) {
    if (s == null) {
      return "";
    }
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }
}
