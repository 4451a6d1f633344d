package dev.ferry.migrations;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * Least-privilege database roles for Ferry's processes. The schema's owner (whoever runs {@code
 * ferry migrate}) keeps DDL; the orchestrator and the workers get only the rows they touch:
 *
 * <ul>
 *   <li><b>orchestrator</b>: reads and writes jobs, attempts and rejected submissions; reads
 *       breakers and workers (dispatch holds back OPEN dependencies, the rescuer looks for dead
 *       workers); deletes old rows (retention). Run it with {@code --no-migrate}.
 *   <li><b>worker</b>: its own row in {@code ferry.workers}; the shared breakers; reads jobs (the
 *       redelivery check, which locks them {@code FOR SHARE} and so needs an {@code UPDATE} grant
 *       on one column: {@code updated_at}, nothing else). It cannot change a job's status, result
 *       or attempts, or read rejected submissions.
 * </ul>
 */
public final class Roles {
  /** PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1). */
  static final int MAX_NAME_BYTES = 63;

  /** Names PostgreSQL reserves for role specifications; CREATE ROLE refuses or misreads them. */
  private static final Set<String> RESERVED =
      Set.of("public", "current_user", "session_user", "current_role", "none");

  /** The most characters of a refused name an error message echoes. */
  private static final int ECHO_CHARS = 80;

  private Roles() {}

  /**
   * The SQL that creates (if missing) both roles and grants them what they need. Role names are
   * quoted identifiers, so they are case-sensitive and may hold any printable character.
   *
   * @throws IllegalArgumentException for a name PostgreSQL reserves or that is unsafe (see {@link
   *     #quote(String)}), or when both roles are the same
   */
  public static String sql(String orchestrator, String worker) {
    String o = quote(orchestrator);
    String w = quote(worker);
    if (orchestrator.equals(worker)) {
      throw new IllegalArgumentException(
          "the orchestrator and worker roles must differ, but both"
              + " are '"
              + echo(worker)
              + "'");
    }
    // The CREATE ROLE statements sit in dollar-quoted DO blocks: pick a tag neither name holds.
    String tag = "$ferry$";
    for (int i = 1; orchestrator.contains(tag) || worker.contains(tag); i++) {
      tag = "$ferry" + i + "$";
    }
    return """
        -- Ferry least-privilege roles. Run as the owner of schema ferry (after `ferry migrate`).
        -- Give each role a password afterwards, e.g. ALTER ROLE %1$s PASSWORD '…';
        DO %3$s BEGIN CREATE ROLE %1$s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END %3$s;
        DO %3$s BEGIN CREATE ROLE %2$s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END %3$s;

        -- orchestrator: intake, dispatch, outcomes, fan-in, rescue, retention
        GRANT USAGE ON SCHEMA ferry TO %1$s;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.jobs, ferry.job_attempts, ferry.job_activity,
            ferry.unique_keys, ferry.schedules TO %1$s;
        GRANT SELECT, INSERT, DELETE ON ferry.rejected_submissions TO %1$s;
        GRANT USAGE ON SEQUENCE ferry.rejected_submissions_id_seq TO %1$s;
        GRANT SELECT ON ferry.circuit_breakers TO %1$s;
        GRANT SELECT, DELETE ON ferry.workers TO %1$s;
        GRANT SELECT, INSERT ON ferry.dependency_limits TO %1$s;

        -- worker: its registry row, the shared breakers, the redelivery check
        GRANT USAGE ON SCHEMA ferry TO %2$s;
        GRANT SELECT, INSERT, UPDATE ON ferry.workers TO %2$s;
        GRANT SELECT, INSERT, UPDATE ON ferry.circuit_breakers TO %2$s;
        GRANT SELECT (id, status, run_seq), UPDATE (updated_at) ON ferry.jobs TO %2$s;
        -- worker: start permits of the rate limits
        GRANT SELECT ON ferry.dependency_limits TO %2$s;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.dependency_starts TO %2$s;
        """
        .formatted(o, w, tag);
  }

  /**
   * A role name as a quoted SQL identifier: in double quotes, embedded double quotes doubled.
   * Refuses names that are empty, longer than 63 bytes (PostgreSQL would silently truncate them),
   * hold control characters (they would end the SQL comment that names the role), start with {@code
   * pg_} (reserved for system roles), or are one of PostgreSQL's reserved role names ({@code
   * public}, {@code current_user}, {@code session_user}, {@code current_role}, {@code none}; in any
   * case, as unquoted they mean something else).
   *
   * @throws IllegalArgumentException naming the problem; the echoed name is escaped and capped
   */
  public static String quote(String role) {
    if (role == null || role.isEmpty()) {
      throw new IllegalArgumentException("a role name must not be empty");
    }
    String shown = "'" + echo(role) + "'";
    for (int i = 0; i < role.length(); i++) {
      char ch = role.charAt(i);
      if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029' || unpaired(role, i)) {
        throw new IllegalArgumentException(
            "role name " + shown + " must not contain control characters or unpaired surrogates");
      }
    }
    int bytes = role.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_NAME_BYTES) {
      throw new IllegalArgumentException(
          "role name "
              + shown
              + " is "
              + bytes
              + " bytes long; PostgreSQL allows at most "
              + MAX_NAME_BYTES);
    }
    String lower = role.toLowerCase(Locale.ROOT);
    if (lower.startsWith("pg_")) {
      throw new IllegalArgumentException(
          "role name "
              + shown
              + " is reserved: names starting with pg_ are PostgreSQL's system roles");
    }
    if (RESERVED.contains(lower)) {
      throw new IllegalArgumentException("role name " + shown + " is reserved by PostgreSQL");
    }
    return "\"" + role.replace("\"", "\"\"") + "\"";
  }

  /** Text for an error message: control characters escaped, at most 80 characters. */
  private static String echo(String s) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    for (; i < s.length() && b.length() < ECHO_CHARS; i++) {
      char ch = s.charAt(i);
      if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029' || unpaired(s, i)) {
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    if (i < s.length()) {
      b.append("…(").append(s.length()).append(" characters)");
    }
    return b.toString();
  }

  private static boolean unpaired(String s, int i) {
    char ch = s.charAt(i);
    if (Character.isHighSurrogate(ch)) {
      return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    if (Character.isLowSurrogate(ch)) {
      return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
    }
    return false;
  }
}
