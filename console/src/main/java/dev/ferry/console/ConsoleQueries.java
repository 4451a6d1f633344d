package dev.ferry.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.UUID;
import javax.sql.DataSource;

/** What the console reads from PostgreSQL, as the JSON of the API (DESIGN section 10). */
final class ConsoleQueries {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Rows of one page of the jobs list. */
  static final int PAGE = 50;

  /** Newest first, keyset on (created_at, id); every filter optional. */
  private static final String JOBS =
      """
      SELECT id, status, type, dependency, attempts, max_attempts, created_at, finished_at,
             last_error
      FROM ferry.jobs
      WHERE (?::text IS NULL OR status = ?)
        AND (?::text IS NULL OR type = ?)
        AND (?::text IS NULL OR dependency = ?)
        AND (?::uuid IS NULL OR parent_id = ?)
        AND (?::text IS NULL OR key = ?)
        AND (?::text IS NULL OR last_error ILIKE '%' || ? || '%' ESCAPE '\\')
        AND (?::timestamptz IS NULL OR created_at >= ?)
        AND (?::timestamptz IS NULL OR created_at < ?)
        AND (?::timestamptz IS NULL OR (created_at, id) < (?, ?))
      ORDER BY created_at DESC, id DESC
      LIMIT ?
      """;

  private static final String JOB =
      """
      SELECT id, parent_id, status, type, dependency, key, attempts, max_attempts, created_at,
             started_at, finished_at, next_run_at, worker_id, last_error, traceparent,
             payload::text AS payload, result::text AS result
      FROM ferry.jobs WHERE id = ?
      """;

  private static final String ATTEMPTS =
      """
      SELECT attempt, worker_id, started_at, finished_at, outcome, error
      FROM ferry.job_attempts WHERE job_id = ? ORDER BY attempt
      """;

  private static final String CHILDREN =
      """
      SELECT count(*) AS total,
             count(*) FILTER (WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) AS done,
             count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED')) AS failed
      FROM ferry.jobs WHERE parent_id = ?
      """;

  private static final String BY_STATUS =
      "SELECT status, count(*) AS n FROM ferry.jobs GROUP BY status ORDER BY status";

  private static final String BY_TYPE =
      "SELECT type, status, count(*) AS n FROM ferry.jobs GROUP BY type, status"
          + " ORDER BY type, status";

  private final DataSource db;

  ConsoleQueries(DataSource db) {
    this.db = db;
  }

  /** {@code {"jobs": [...], "next": cursor|null}}. */
  ObjectNode jobs(JobFilter f, int limit) throws SQLException {
    ObjectNode out = JSON.createObjectNode();
    ArrayNode jobs = out.putArray("jobs");
    JobFilter.Cursor last = null;
    int rows = 0;
    try (Connection c = db.getConnection();
        PreparedStatement ps = c.prepareStatement(JOBS)) {
      int i = 1;
      i = twice(ps, i, f.status());
      i = twice(ps, i, f.type());
      i = twice(ps, i, f.dependency());
      ps.setObject(i++, f.parent(), Types.OTHER);
      ps.setObject(i++, f.parent(), Types.OTHER);
      i = twice(ps, i, f.key());
      i = twice(ps, i, f.q() == null ? null : likeEscaped(f.q()));
      i = twiceTime(ps, i, f.from());
      i = twiceTime(ps, i, f.to());
      Timestamp afterTs = f.after() == null ? null : Timestamp.from(f.after().createdAt());
      ps.setTimestamp(i++, afterTs);
      ps.setTimestamp(i++, afterTs);
      ps.setObject(i++, f.after() == null ? null : f.after().id(), Types.OTHER);
      ps.setInt(i, limit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (++rows > limit) {
            break;
          }
          ObjectNode j = jobs.addObject();
          UUID id = rs.getObject("id", UUID.class);
          Instant created = rs.getTimestamp("created_at").toInstant();
          j.put("id", id.toString());
          j.put("status", rs.getString("status"));
          j.put("type", rs.getString("type"));
          j.put("dependency", rs.getString("dependency"));
          j.put("attempts", rs.getInt("attempts"));
          j.put("maxAttempts", rs.getInt("max_attempts"));
          j.put("createdAt", created.toString());
          j.put("finishedAt", instant(rs, "finished_at"));
          j.put("lastError", rs.getString("last_error"));
          last = new JobFilter.Cursor(created, id);
        }
      }
    }
    out.put("next", rows > limit && last != null ? last.encode() : null);
    return out;
  }

  /** The job with payload, result, attempts and (for a parent) children counts; null if none. */
  ObjectNode job(UUID id) throws SQLException {
    try (Connection c = db.getConnection()) {
      ObjectNode j = JSON.createObjectNode();
      try (PreparedStatement ps = c.prepareStatement(JOB)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return null;
          }
          j.put("id", id.toString());
          j.put("parentId", rs.getString("parent_id"));
          for (String col : new String[] {"status", "type", "dependency", "key"}) {
            j.put(col, rs.getString(col));
          }
          j.put("maxAttempts", rs.getInt("max_attempts"));
          j.put("createdAt", instant(rs, "created_at"));
          j.put("startedAt", instant(rs, "started_at"));
          j.put("finishedAt", instant(rs, "finished_at"));
          j.put("nextRunAt", instant(rs, "next_run_at"));
          j.put("workerId", rs.getString("worker_id"));
          j.put("lastError", rs.getString("last_error"));
          j.put("traceparent", rs.getString("traceparent"));
          j.set("payload", json(rs.getString("payload")));
          j.set("result", json(rs.getString("result")));
        }
      }
      ArrayNode attempts = j.putArray("attempts");
      try (PreparedStatement ps = c.prepareStatement(ATTEMPTS)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ObjectNode a = attempts.addObject();
            a.put("attempt", rs.getInt("attempt"));
            a.put("workerId", rs.getString("worker_id"));
            a.put("startedAt", instant(rs, "started_at"));
            a.put("finishedAt", instant(rs, "finished_at"));
            a.put("outcome", rs.getString("outcome"));
            a.put("error", rs.getString("error"));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(CHILDREN)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong("total") > 0) {
            j.putObject("children")
                .put("total", rs.getLong("total"))
                .put("done", rs.getLong("done"))
                .put("failed", rs.getLong("failed"));
          }
        }
      }
      return j;
    }
  }

  /** Counts by status and by type (and status). */
  ObjectNode stats() throws SQLException {
    ObjectNode out = JSON.createObjectNode();
    try (Connection c = db.getConnection()) {
      ObjectNode byStatus = out.putObject("byStatus");
      try (PreparedStatement ps = c.prepareStatement(BY_STATUS);
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byStatus.put(rs.getString("status"), rs.getLong("n"));
        }
      }
      ObjectNode byType = out.putObject("byType");
      try (PreparedStatement ps = c.prepareStatement(BY_TYPE);
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String type = rs.getString("type") == null ? "(parent)" : rs.getString("type");
          ObjectNode t = byType.has(type) ? (ObjectNode) byType.get(type) : byType.putObject(type);
          t.put(rs.getString("status"), rs.getLong("n"));
        }
      }
    }
    return out;
  }

  private static int twice(PreparedStatement ps, int i, String v) throws SQLException {
    ps.setString(i, v);
    ps.setString(i + 1, v);
    return i + 2;
  }

  private static int twiceTime(PreparedStatement ps, int i, Instant v) throws SQLException {
    Timestamp t = v == null ? null : Timestamp.from(v);
    ps.setTimestamp(i, t);
    ps.setTimestamp(i + 1, t);
    return i + 2;
  }

  /** {@code q} as a literal inside LIKE: its %, _ and \ match themselves. */
  static String likeEscaped(String q) {
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }

  private static String instant(ResultSet rs, String col) throws SQLException {
    Timestamp t = rs.getTimestamp(col);
    return t == null ? null : t.toInstant().toString();
  }

  private static com.fasterxml.jackson.databind.JsonNode json(String text) {
    try {
      return text == null ? null : JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return JSON.getNodeFactory().textNode(text);
    }
  }
}
