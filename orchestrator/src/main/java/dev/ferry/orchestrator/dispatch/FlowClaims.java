package dev.ferry.orchestrator.dispatch;

import dev.ferry.orchestrator.store.ClaimedJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The dispatcher's claim of jobs under flow control (docs/flow-control.md), in the dispatcher's
 * transaction, exact across orchestrators:
 *
 * <ul>
 *   <li><b>Dependency limits</b>: under the dependency's advisory lock (taken in name order), a
 *       dependency with {@code max_concurrent} gets at most that many jobs QUEUED or RUNNING, and
 *       one with a rate at most {@code rate_limit} QUEUED (waiting at workers for their start
 *       permit, which enforces the rate itself).
 *   <li><b>Concurrency keys</b>: under the key's advisory lock (taken in name order, after the
 *       dependencies'), a key gets at most {@code limit} jobs QUEUED, RUNNING or RETRY_WAIT, its
 *       oldest PENDING ones in submission order; a key whose oldest waiting job cannot go yet (not
 *       due, breaker OPEN, dependency full) holds the ones behind it. Keys are served round-robin
 *       from a cursor: a key with 100,000 waiting jobs takes no more of a round than one with 10.
 * </ul>
 *
 * <p>One instance per dispatcher (it keeps the round-robin cursor); one thread.
 */
final class FlowClaims {
  /** Why a dependency's jobs may not all go: its limits, read once per round. */
  private record Limit(String dependency, Integer rateLimit, Integer maxConcurrent) {}

  private static final String LIMITS =
      "SELECT dependency, rate_limit, max_concurrent FROM ferry.dependency_limits"
          + " ORDER BY dependency";

  private static final String LOCK =
      "SELECT count(pg_advisory_xact_lock(hashtext(?::text || k))) FROM"
          + " (SELECT k FROM unnest(?::text[]) AS u(k) ORDER BY k) s";

  private static final String DEPENDENCY_LOAD =
      """
      SELECT dependency, count(*) AS active, count(*) FILTER (WHERE status = 'QUEUED') AS queued
      FROM ferry.jobs
      WHERE dependency = ANY(?::text[]) AND status IN ('QUEUED', 'RUNNING')
      GROUP BY dependency
      """;

  /** Distinct keys with PENDING jobs after the cursor, in key order (a loose index scan). */
  private static final String KEYS =
      """
      WITH RECURSIVE keys AS (
        (SELECT concurrency_key AS k FROM ferry.jobs
         WHERE status = 'PENDING' AND concurrency_key IS NOT NULL AND concurrency_key > ?
         ORDER BY concurrency_key LIMIT 1)
        UNION ALL
        SELECT (SELECT concurrency_key FROM ferry.jobs
                WHERE status = 'PENDING' AND concurrency_key IS NOT NULL
                  AND concurrency_key > keys.k
                ORDER BY concurrency_key LIMIT 1)
        FROM keys WHERE keys.k IS NOT NULL)
      SELECT k FROM keys WHERE k IS NOT NULL LIMIT ?
      """;

  /**
   * Per key: its slots in use, and its waiting jobs in submission order, as many as its limit (the
   * head's) leaves free, each with whether it may go now (due, breaker not OPEN).
   */
  private static final String KEY_CANDIDATES =
      """
      SELECT u.k, c.id, c.dependency, c.ready
      FROM unnest(?::text[]) AS u(k)
      CROSS JOIN LATERAL (
        SELECT count(*) AS used FROM ferry.jobs a
        WHERE a.concurrency_key = u.k AND a.status IN ('QUEUED', 'RUNNING', 'RETRY_WAIT')) s
      CROSS JOIN LATERAL (
        SELECT h.concurrency_limit AS lim FROM ferry.jobs h
        WHERE h.concurrency_key = u.k AND h.status = 'PENDING'
        ORDER BY h.created_at, h.concurrency_seq LIMIT 1) head
      CROSS JOIN LATERAL (
        SELECT j.id, j.dependency, j.created_at, j.concurrency_seq,
               j.next_run_at <= now() AND NOT EXISTS (
                 SELECT 1 FROM ferry.circuit_breakers b
                 WHERE b.dependency = j.dependency AND b.state = 'OPEN'
                   AND (b.retry_at IS NULL OR b.retry_at > now())) AS ready
        FROM ferry.jobs j
        WHERE j.concurrency_key = u.k AND j.status = 'PENDING'
        ORDER BY j.created_at, j.concurrency_seq
        LIMIT greatest(0, head.lim - s.used)) c
      ORDER BY u.k, c.created_at, c.concurrency_seq
      """;

  /** A limited dependency's due jobs that need no key slot, most urgent first. */
  private static final String DEPENDENCY_CANDIDATES =
      """
      SELECT u.d, c.id
      FROM unnest(?::text[], ?::int[]) AS u(d, n)
      CROSS JOIN LATERAL (
        SELECT j.id FROM ferry.jobs j
        WHERE j.dependency = u.d AND j.status IN ('PENDING', 'RETRY_WAIT')
          AND j.next_run_at <= now()
          AND (j.concurrency_key IS NULL OR j.status = 'RETRY_WAIT')
          AND NOT EXISTS (
            SELECT 1 FROM ferry.circuit_breakers b
            WHERE b.dependency = j.dependency AND b.state = 'OPEN'
              AND (b.retry_at IS NULL OR b.retry_at > now()))
        ORDER BY j.priority, j.next_run_at
        LIMIT u.n
        FOR UPDATE SKIP LOCKED) c
      """;

  private static final String CLAIM_IDS =
      """
      UPDATE ferry.jobs j
      SET status = 'QUEUED', attempts = j.attempts + 1, run_seq = j.run_seq + 1, updated_at = now()
      WHERE j.id = ANY(?::uuid[]) AND j.status IN ('PENDING', 'RETRY_WAIT')
      RETURNING j.id, j.attempts, j.run_seq, j.type, j.payload::text AS payload, j.dependency,
                j.timeout_ms, j.crashes, j.traceparent, j.priority
      """;

  /** Where the next round's key scan starts: after the last key served (round-robin). */
  private String keyCursor = "";

  /**
   * Claims up to about {@code budget} jobs under flow control; they become QUEUED with attempts +
   * 1. Holds the advisory locks of the limited dependencies and of the keys looked at until the
   * caller's transaction ends.
   */
  List<ClaimedJob> claim(Connection c, int budget) throws SQLException {
    Map<String, Limit> limits = limits(c);
    Map<String, Integer> room = limits.isEmpty() ? Map.of() : room(c, limits);
    List<UUID> ids = new ArrayList<>();
    claimKeyed(c, budget, room, ids);
    claimLimited(c, Math.max(0, budget - ids.size()), room, ids);
    if (ids.isEmpty()) {
      return List.of();
    }
    try (PreparedStatement ps = c.prepareStatement(CLAIM_IDS)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      return DispatchStore.claimed(ps);
    }
  }

  private static Map<String, Limit> limits(Connection c) throws SQLException {
    Map<String, Limit> out = new TreeMap<>();
    try (PreparedStatement ps = c.prepareStatement(LIMITS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String d = rs.getString(1);
        out.put(d, new Limit(d, (Integer) rs.getObject(2), (Integer) rs.getObject(3)));
      }
    }
    return out;
  }

  /**
   * Locks the limited dependencies and says how many more jobs each may have QUEUED now: the least
   * of {@code max_concurrent} less those QUEUED or RUNNING, and {@code rate_limit} less those
   * QUEUED.
   */
  private static Map<String, Integer> room(Connection c, Map<String, Limit> limits)
      throws SQLException {
    lock(c, "ferry-dep:", limits.keySet());
    Map<String, long[]> load = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(DEPENDENCY_LOAD)) {
      ps.setArray(1, c.createArrayOf("text", limits.keySet().toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          load.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
        }
      }
    }
    Map<String, Integer> room = new TreeMap<>();
    for (Limit l : limits.values()) {
      long[] n = load.getOrDefault(l.dependency(), new long[] {0, 0});
      long free = Integer.MAX_VALUE;
      if (l.maxConcurrent() != null) {
        free = Math.min(free, l.maxConcurrent() - n[0]);
      }
      if (l.rateLimit() != null) {
        free = Math.min(free, l.rateLimit() - n[1]);
      }
      room.put(l.dependency(), (int) Math.max(0, free));
    }
    return room;
  }

  private static void lock(Connection c, String namespace, java.util.Collection<String> names)
      throws SQLException {
    if (names.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(LOCK)) {
      ps.setString(1, namespace);
      ps.setArray(2, c.createArrayOf("text", names.toArray()));
      ps.executeQuery().close();
    }
  }

  /** Picks keyed jobs: keys round-robin from the cursor, each in submission order. */
  private void claimKeyed(Connection c, int budget, Map<String, Integer> room, List<UUID> ids)
      throws SQLException {
    List<String> keys = keys(c, keyCursor, budget);
    if (keys.size() < budget && !keyCursor.isEmpty()) {
      // Wrapped around: the keys before the cursor come next.
      for (String k : keys(c, "", budget - keys.size())) {
        if (k.compareTo(keyCursor) > 0 || keys.contains(k)) {
          break;
        }
        keys.add(k);
      }
    }
    if (keys.isEmpty()) {
      keyCursor = "";
      return;
    }
    List<String> sorted = new ArrayList<>(keys);
    sorted.sort(null);
    lock(c, "ferry-key:", sorted);
    Map<String, List<Object[]>> byKey = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(KEY_CANDIDATES)) {
      ps.setArray(1, c.createArrayOf("text", sorted.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byKey
              .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
              .add(new Object[] {rs.getObject(2, UUID.class), rs.getString(3), rs.getBoolean(4)});
        }
      }
    }
    // Round-robin: one job per key per pass, so the round's budget is shared among keys.
    boolean progress = true;
    Map<String, Integer> next = new HashMap<>();
    java.util.Set<String> blocked = new java.util.HashSet<>();
    while (progress && ids.size() < budget) {
      progress = false;
      for (String k : keys) {
        if (ids.size() >= budget) {
          break;
        }
        List<Object[]> cands = byKey.get(k);
        int i = next.getOrDefault(k, 0);
        if (cands == null || i >= cands.size() || blocked.contains(k)) {
          continue;
        }
        Object[] cand = cands.get(i);
        String dep = (String) cand[1];
        Integer free = dep == null ? null : room.get(dep);
        if (!(Boolean) cand[2] || (free != null && free <= 0)) {
          blocked.add(k); // its oldest waiting job cannot go: nor can the ones behind it
          continue;
        }
        if (free != null) {
          room.put(dep, free - 1);
        }
        ids.add((UUID) cand[0]);
        next.put(k, i + 1);
        progress = true;
      }
    }
    keyCursor = keys.get(keys.size() - 1);
  }

  private static List<String> keys(Connection c, String after, int limit) throws SQLException {
    List<String> out = new ArrayList<>();
    if (limit <= 0) {
      return out;
    }
    try (PreparedStatement ps = c.prepareStatement(KEYS)) {
      ps.setString(1, after);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /** Picks due jobs of limited dependencies that need no key slot, within each one's room. */
  private static void claimLimited(
      Connection c, int budget, Map<String, Integer> room, List<UUID> ids) throws SQLException {
    List<String> deps = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : room.entrySet()) {
      if (e.getValue() > 0) {
        deps.add(e.getKey());
        counts.add(Math.min(e.getValue(), budget));
      }
    }
    if (deps.isEmpty() || budget <= 0) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(DEPENDENCY_CANDIDATES)) {
      ps.setArray(1, c.createArrayOf("text", deps.toArray()));
      ps.setArray(2, c.createArrayOf("integer", counts.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(2, UUID.class));
        }
      }
    }
  }
}
