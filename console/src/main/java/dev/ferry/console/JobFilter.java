package dev.ferry.console;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The filters of the jobs list and its keyset cursor (DESIGN section 10): {@code status}, {@code
 * type}, {@code dependency}, {@code parent}, {@code key}, {@code q} (text in {@code last_error}),
 * {@code from}/{@code to} (created), {@code after} (cursor). Values come from query parameters; a
 * bad one is an {@link IllegalArgumentException} naming it.
 */
public record JobFilter(
    String status,
    String type,
    String dependency,
    UUID parent,
    String key,
    String q,
    Instant from,
    Instant to,
    Cursor after) {

  static final Set<String> STATUSES =
      Set.of(
          "PENDING",
          "QUEUED",
          "RUNNING",
          "RETRY_WAIT",
          "WAITING_CHILDREN",
          "SUCCEEDED",
          "FAILED",
          "CANCELLED");

  /** A position in the list, newest first: the last row's creation time and id. */
  public record Cursor(Instant createdAt, UUID id) {
    /** An opaque string for the {@code after} parameter. */
    public String encode() {
      String raw = createdAt.getEpochSecond() + "." + createdAt.getNano() + ":" + id;
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static Cursor decode(String s) {
      try {
        String raw = new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
        int colon = raw.indexOf(':');
        int dot = raw.indexOf('.');
        return new Cursor(
            Instant.ofEpochSecond(
                Long.parseLong(raw.substring(0, dot)),
                Long.parseLong(raw.substring(dot + 1, colon))),
            UUID.fromString(raw.substring(colon + 1)));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("'after' is not a cursor this console gave out");
      }
    }
  }

  /**
   * The filter as query parameters (without the cursor), in a stable order; absent ones left out.
   */
  public java.util.LinkedHashMap<String, String> params() {
    var p = new java.util.LinkedHashMap<String, String>();
    put(p, "status", status);
    put(p, "type", type);
    put(p, "dependency", dependency);
    put(p, "parent", parent == null ? null : parent.toString());
    put(p, "key", key);
    put(p, "q", q);
    put(p, "from", from == null ? null : from.toString());
    put(p, "to", to == null ? null : to.toString());
    return p;
  }

  /** Whether any filter (not the cursor) is set. */
  public boolean any() {
    return !params().isEmpty();
  }

  /** The jobs the filter selects, for the bulk actions. */
  public dev.ferry.orchestrator.admin.Selection selection() {
    return new dev.ferry.orchestrator.admin.Selection(
        java.util.List.of(),
        status == null ? null : dev.ferry.core.model.JobStatus.valueOf(status),
        type,
        dependency,
        parent,
        key,
        q,
        from,
        to);
  }

  /** The same filter from another position. */
  public JobFilter withAfter(Cursor cursor) {
    return new JobFilter(status, type, dependency, parent, key, q, from, to, cursor);
  }

  private static void put(java.util.Map<String, String> p, String name, String value) {
    if (value != null) {
      p.put(name, value);
    }
  }

  /** The filter of a request's query parameters ({@code param} gives null when absent). */
  public static JobFilter parse(Function<String, String> param) {
    String status = blankToNull(param.apply("status"));
    if (status != null && !STATUSES.contains(status)) {
      throw new IllegalArgumentException(
          "'status' must be one of "
              + new java.util.TreeSet<>(STATUSES)
              + " but was '"
              + status
              + "'");
    }
    return new JobFilter(
        status,
        blankToNull(param.apply("type")),
        blankToNull(param.apply("dependency")),
        uuid("parent", param.apply("parent")),
        blankToNull(param.apply("key")),
        blankToNull(param.apply("q")),
        instant("from", param.apply("from")),
        instant("to", param.apply("to")),
        blankToNull(param.apply("after")) == null ? null : Cursor.decode(param.apply("after")));
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  private static UUID uuid(String name, String value) {
    String v = blankToNull(value);
    try {
      return v == null ? null : UUID.fromString(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + name + "' must be a job id (UUID)");
    }
  }

  private static Instant instant(String name, String value) {
    String v = blankToNull(value);
    try {
      return v == null ? null : Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "'" + name + "' must be an ISO-8601 instant such as 2026-11-28T10:00:00Z");
    }
  }
}
