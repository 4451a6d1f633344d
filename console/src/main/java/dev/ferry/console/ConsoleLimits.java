package dev.ferry.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.flow.Rate;
import dev.ferry.orchestrator.flow.LimitsStore;
import dev.ferry.orchestrator.store.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Limits page and {@code /api/limits}: fleet-wide dependency limits (DESIGN section 11), read
 * and written through the {@link LimitsStore} of {@code ferry limits}. Input is checked in full
 * before anything is written, so a refused request changes nothing. Thread-safe (no state but the
 * pool).
 */
final class ConsoleLimits {
  private static final Logger log = LoggerFactory.getLogger(ConsoleLimits.class);

  /** Longest rate text read ({@code 1000000000/86400000ms} is 22 characters). */
  static final int MAX_RATE_CHARS = 40;

  /** The fields of a change's JSON body. */
  static final Set<String> FIELDS = Set.of("rate", "maxConcurrent");

  private static final String ACTIVE =
      """
      SELECT dependency, count(*) FROM ferry.jobs
      WHERE status IN ('QUEUED', 'RUNNING') AND dependency = ANY(?)
      GROUP BY dependency
      """;

  /** After a change, a row without any limit is no row: the dependency has no limits. */
  private static final String DROP_EMPTY =
      """
      DELETE FROM ferry.dependency_limits
      WHERE dependency = ? AND rate_limit IS NULL AND max_concurrent IS NULL
      """;

  private static final String FIND =
      """
      SELECT rate_limit, rate_period_ms, max_concurrent, updated_at
      FROM ferry.dependency_limits WHERE dependency = ?
      """;

  private final DataSource db;
  private final LimitsStore store = new LimitsStore();

  ConsoleLimits(DataSource db) {
    this.db = db;
  }

  /**
   * A change of a dependency's limits: a part whose {@code set*} flag is false stays as it is; one
   * whose flag is true takes the value, null clearing it.
   */
  record Change(Rate rate, boolean setRate, Integer maxConcurrent, boolean setMaxConcurrent) {
    /**
     * Reads {@code {"rate": "50/1s" | null, "maxConcurrent": 10 | null}}: a field absent leaves
     * that part as it is, a null clears it.
     *
     * @throws IllegalArgumentException naming what is wrong (an unknown field, a bad value, no
     *     field at all)
     */
    static Change fromJson(JsonNode body) {
      for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!FIELDS.contains(name)) {
          throw new IllegalArgumentException(
              "unknown field '"
                  + Fmt.cut(name, 60)
                  + "'; a limit takes 'rate' and 'maxConcurrent'");
        }
      }
      if (!body.has("rate") && !body.has("maxConcurrent")) {
        throw new IllegalArgumentException(
            "give 'rate' and/or 'maxConcurrent' (null removes that limit)");
      }
      return new Change(
          rate(body.get("rate")),
          body.has("rate"),
          maxConcurrent(body.get("maxConcurrent")),
          body.has("maxConcurrent"));
    }

    private static Rate rate(JsonNode v) {
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isTextual()) {
        throw new IllegalArgumentException(
            "'rate' must be a string such as \"100/1s\" (or null: no rate limit) but was " + v);
      }
      String text = v.asText();
      if (text.length() > MAX_RATE_CHARS) {
        throw new IllegalArgumentException(
            "a rate is <limit>/<period> such as 100/1s, 50/500ms or 1000/1m, not "
                + text.length()
                + " characters");
      }
      return Rate.parse(text);
    }

    private static Integer maxConcurrent(JsonNode v) {
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
        throw new IllegalArgumentException(
            "max concurrent must be a whole number from 1 to "
                + Integer.MAX_VALUE
                + " (or empty: no cap) but was "
                + Fmt.cut(v.toString(), 40));
      }
      return v.intValue();
    }
  }

  /**
   * Checks a dependency name from a request: 1 to {@value ConsoleActions#MAX_DEPENDENCY_CHARS}
   * characters, not blank.
   */
  static String dependency(String name) {
    if (name == null || name.isBlank() || name.length() > ConsoleActions.MAX_DEPENDENCY_CHARS) {
      throw new IllegalArgumentException(
          "a dependency name is 1 to "
              + ConsoleActions.MAX_DEPENDENCY_CHARS
              + " characters"
              + (name == null || name.isBlank() ? ", not empty" : ", not " + name.length()));
    }
    return name;
  }

  /** Every dependency's limits, by name. */
  List<Model.Limit> list() throws SQLException {
    try (Connection c = db.getConnection()) {
      return list(c);
    }
  }

  /** Every limit and how many jobs of each limited dependency are QUEUED or RUNNING now. */
  Model.Limits page() throws SQLException {
    try (Connection c = db.getConnection()) {
      List<Model.Limit> limits = list(c);
      Map<String, Long> active = new HashMap<>();
      if (!limits.isEmpty()) {
        try (PreparedStatement ps = c.prepareStatement(ACTIVE)) {
          ps.setArray(
              1,
              c.createArrayOf(
                  "text", limits.stream().map(Model.Limit::dependency).toArray(String[]::new)));
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              active.put(rs.getString(1), rs.getLong(2));
            }
          }
        }
      }
      return new Model.Limits(limits, active);
    }
  }

  /**
   * Applies {@code change} to {@code dependency}'s limits (creating its row); returns them, or null
   * when none is left (the row is removed).
   */
  Model.Limit set(String dependency, Change change) throws SQLException {
    dependency(dependency);
    try (Connection c = db.getConnection()) {
      Model.Limit now =
          Transactions.inTransaction(
              c,
              () -> {
                store.set(
                    c,
                    dependency,
                    change.rate(),
                    change.setRate(),
                    change.maxConcurrent(),
                    change.setMaxConcurrent());
                try (PreparedStatement ps = c.prepareStatement(DROP_EMPTY)) {
                  ps.setString(1, dependency);
                  ps.executeUpdate();
                }
                return find(c, dependency);
              });
      log.info(
          "Console: limits of {} now rate {}, max concurrent {}",
          dependency,
          now == null ? null : now.rate(),
          now == null ? null : now.maxConcurrent());
      return now;
    }
  }

  /** Removes every limit of {@code dependency}; returns whether it had any. */
  boolean clear(String dependency) throws SQLException {
    dependency(dependency);
    try (Connection c = db.getConnection()) {
      boolean found = store.clear(c, dependency);
      if (found) {
        log.info("Console: limits of {} cleared", dependency);
      }
      return found;
    }
  }

  private List<Model.Limit> list(Connection c) throws SQLException {
    return store.list(c).stream()
        .map(
            l ->
                new Model.Limit(
                    l.dependency(), Fmt.rate(l.rate()), l.maxConcurrent(), l.updatedAt()))
        .toList();
  }

  private static Model.Limit find(Connection c, String dependency) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FIND)) {
      ps.setString(1, dependency);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        int limit = rs.getInt("rate_limit");
        Rate rate =
            rs.wasNull()
                ? null
                : new Rate(limit, java.time.Duration.ofMillis(rs.getInt("rate_period_ms")));
        int max = rs.getInt("max_concurrent");
        Integer maxConcurrent = rs.wasNull() ? null : max;
        return new Model.Limit(
            dependency, Fmt.rate(rate), maxConcurrent, rs.getTimestamp("updated_at").toInstant());
      }
    }
  }
}
