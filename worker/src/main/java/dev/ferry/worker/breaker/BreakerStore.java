package dev.ferry.worker.breaker;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.BreakerSnapshot;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.CircuitBreakerMachine;
import dev.ferry.core.breaker.CircuitBreakerMachine.Permit;
import dev.ferry.core.breaker.CircuitBreakerMachine.Step;
import dev.ferry.core.breaker.CircuitBreakerMachine.Transition;
import dev.ferry.core.breaker.Outcomes;
import dev.ferry.core.breaker.SlidingWindow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The shared breaker state in {@code ferry.circuit_breakers}. Every change locks the rows concerned
 * ({@code FOR UPDATE}, in dependency order), applies {@link CircuitBreakerMachine} and writes the
 * result in the same transaction, so concurrent reports from any number of replicas serialise: no
 * lost update, and a transition happens exactly once (its generation is the row's generation + 1).
 * Transitions are announced on channel {@value #CHANNEL}. One statement per batch, whatever the
 * number of dependencies. Stateless and thread-safe.
 */
public final class BreakerStore {
  /** Channel notified with the dependency name when a breaker changes state. */
  public static final String CHANNEL = "ferry_breakers";

  private static final String COLUMNS =
      "dependency, state, generation, \"window\", opened_at, retry_at, trips, half_open_permits,"
          + " half_open_successes, forced, state_since, epoch, clock_timestamp()";

  /** Result of a batch: the current snapshots and the transitions made. */
  public record Batch(Map<String, BreakerSnapshot> snapshots, List<Transition> transitions) {}

  /**
   * The answer to a request for a trial call: whether it was granted, and the admission epoch the
   * call is made in (what its outcome must carry to count as a trial).
   */
  public record Grant(boolean granted, long epoch) {}

  private final Function<String, BreakerConfig> configs;

  public BreakerStore(Function<String, BreakerConfig> configs) {
    this.configs = configs;
  }

  /** Reads breakers (all of them when {@code dependencies} is null). */
  public Map<String, BreakerSnapshot> load(Connection c, Collection<String> dependencies)
      throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM ferry.circuit_breakers"
            + (dependencies == null ? "" : " WHERE dependency = ANY(?::text[])")
            + " ORDER BY dependency";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (dependencies != null) {
        ps.setArray(1, c.createArrayOf("text", dependencies.toArray()));
      }
      return read(ps);
    }
  }

  /**
   * Reads the breakers that are not CLOSED or are forced, and those named in {@code known}: what a
   * replica must know, without reading a row for every dependency ever called.
   */
  public Map<String, BreakerSnapshot> loadActive(Connection c, Collection<String> known)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + COLUMNS
                + " FROM ferry.circuit_breakers WHERE state <> 'CLOSED' OR forced IS NOT NULL"
                + " OR dependency = ANY(?::text[]) ORDER BY dependency")) {
      ps.setArray(1, c.createArrayOf("text", known.toArray()));
      return read(ps);
    }
  }

  /**
   * Records call outcomes of several dependencies in one transaction, as if all were admitted in
   * the current epoch (tools and tests; workers {@link #report} gathered outcomes).
   */
  public Batch record(Connection c, Map<String, List<Call>> calls) throws SQLException {
    return change(
        c,
        calls.keySet(),
        (s, now) ->
            CircuitBreakerMachine.record(
                s, calls.get(s.dependency()), now, configs.apply(s.dependency())));
  }

  /**
   * Applies gathered call outcomes of several dependencies in one transaction; each call counts as
   * a HALF_OPEN trial only if it was admitted in the breaker's current epoch.
   */
  public Batch report(Connection c, Map<String, Outcomes> outcomes) throws SQLException {
    return change(
        c,
        outcomes.keySet(),
        (s, now) ->
            CircuitBreakerMachine.record(
                s, outcomes.get(s.dependency()), now, configs.apply(s.dependency())));
  }

  /** Asks for a trial call permit (HALF_OPEN); returns whether it was granted. */
  public boolean acquire(Connection c, String dependency, List<Transition> transitions)
      throws SQLException {
    return permit(c, dependency, transitions).granted();
  }

  /**
   * Asks for a trial call permit (HALF_OPEN): whether it was granted and the epoch the call is made
   * in. Transitions made (OPEN→HALF_OPEN) are added to {@code transitions}.
   */
  public Grant permit(Connection c, String dependency, List<Transition> transitions)
      throws SQLException {
    boolean[] granted = {false};
    Batch b =
        change(
            c,
            List.of(dependency),
            (s, now) -> {
              Permit p = CircuitBreakerMachine.acquire(s, now, configs.apply(s.dependency()));
              granted[0] = p.granted();
              return p.step();
            });
    transitions.addAll(b.transitions());
    return new Grant(granted[0], b.snapshots().get(dependency).epoch());
  }

  /** Forces a breaker OPEN (until {@code until}, or indefinitely when null) or CLOSED. */
  public Batch force(Connection c, String dependency, BreakerState target, Instant until)
      throws SQLException {
    return change(
        c,
        List.of(dependency),
        (s, now) ->
            CircuitBreakerMachine.force(s, target, now, until, configs.apply(s.dependency())));
  }

  /** Back to a fresh, automatic CLOSED breaker. */
  public Batch reset(Connection c, String dependency) throws SQLException {
    return change(
        c,
        List.of(dependency),
        (s, now) -> CircuitBreakerMachine.reset(s, now, configs.apply(s.dependency())));
  }

  private interface Change {
    Step apply(BreakerSnapshot s, Instant now);
  }

  private Batch change(Connection c, Collection<String> deps, Change change) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      String[] names = new TreeSet<>(deps).toArray(String[]::new);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO ferry.circuit_breakers (dependency) SELECT unnest(?::text[])"
                  + " ON CONFLICT (dependency) DO NOTHING")) {
        ps.setArray(1, c.createArrayOf("text", names));
        ps.executeUpdate();
      }
      Map<String, BreakerSnapshot> current;
      Instant now;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT "
                  + COLUMNS
                  + " FROM ferry.circuit_breakers WHERE dependency = ANY(?::text[]) ORDER BY dependency"
                  + " FOR UPDATE")) {
        ps.setArray(1, c.createArrayOf("text", names));
        Instant[] clock = {null};
        current = read(ps, clock);
        now = clock[0] != null ? clock[0] : Instant.now();
      }
      Map<String, BreakerSnapshot> after = new LinkedHashMap<>();
      List<Transition> transitions = new ArrayList<>();
      for (BreakerSnapshot s : current.values()) {
        Step step = change.apply(s, now);
        after.put(s.dependency(), step.snapshot());
        if (step.transition() != null) {
          transitions.add(step.transition());
        }
      }
      write(c, after.values(), transitions);
      for (Transition t : transitions) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
          ps.setString(1, CHANNEL);
          ps.setString(2, t.dependency());
          ps.execute();
        }
      }
      c.commit();
      return new Batch(after, transitions);
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private Map<String, BreakerSnapshot> read(PreparedStatement ps) throws SQLException {
    return read(ps, new Instant[1]);
  }

  /** Reads snapshots; {@code now[0]} receives the database clock. */
  private Map<String, BreakerSnapshot> read(PreparedStatement ps, Instant[] now)
      throws SQLException {
    Map<String, BreakerSnapshot> out = new LinkedHashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String dep = rs.getString(1);
        BreakerConfig cfg = configs.apply(dep);
        String forced = rs.getString(10);
        out.put(
            dep,
            new BreakerSnapshot(
                dep,
                BreakerState.valueOf(rs.getString(2)),
                rs.getLong(3),
                rs.getLong(12),
                SlidingWindow.parse(cfg.windowType(), cfg.windowSize(), rs.getString(4)),
                instant(rs.getTimestamp(5)),
                instant(rs.getTimestamp(6)),
                rs.getInt(7),
                rs.getInt(8),
                rs.getInt(9),
                forced == null ? null : BreakerState.valueOf(forced),
                instant(rs.getTimestamp(11))));
        now[0] = instant(rs.getTimestamp(13));
      }
    }
    return out;
  }

  private static void write(Connection c, Collection<BreakerSnapshot> rows, List<Transition> ts)
      throws SQLException {
    int n = rows.size();
    if (n == 0) {
      return;
    }
    Map<String, String> reasons = new LinkedHashMap<>();
    for (Transition t : ts) {
      reasons.put(t.dependency(), t.reason());
    }
    String[] dep = new String[n];
    String[] state = new String[n];
    Long[] gen = new Long[n];
    Long[] epoch = new Long[n];
    String[] window = new String[n];
    Integer[] calls = new Integer[n];
    Integer[] failures = new Integer[n];
    Timestamp[] opened = new Timestamp[n];
    Timestamp[] retry = new Timestamp[n];
    Integer[] trips = new Integer[n];
    Integer[] permits = new Integer[n];
    Integer[] successes = new Integer[n];
    String[] forced = new String[n];
    Timestamp[] since = new Timestamp[n];
    String[] reason = new String[n];
    int i = 0;
    long nowSecond = Instant.now().getEpochSecond();
    for (BreakerSnapshot s : rows) {
      SlidingWindow.Totals t = s.window().totals(nowSecond);
      dep[i] = s.dependency();
      state[i] = s.state().name();
      gen[i] = s.generation();
      epoch[i] = s.epoch();
      window[i] = s.window().text();
      calls[i] = t.calls();
      failures[i] = t.failures();
      opened[i] = ts(s.openedAt());
      retry[i] = ts(s.retryAt());
      trips[i] = s.trips();
      permits[i] = s.halfOpenPermits();
      successes[i] = s.halfOpenSuccesses();
      forced[i] = s.forced() == null ? null : s.forced().name();
      since[i] = ts(s.since());
      reason[i] = reasons.get(s.dependency());
      i++;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            """
        UPDATE ferry.circuit_breakers b
        SET state = u.state, generation = u.generation, "window" = u.win,
            window_calls = u.calls, window_failures = u.failures,
            failure_rate = CASE WHEN u.calls = 0 THEN 0 ELSE 100.0 * u.failures / u.calls END,
            opened_at = u.opened_at, retry_at = u.retry_at, trips = u.trips,
            half_open_permits = u.permits, half_open_successes = u.successes, forced = u.forced,
            state_since = coalesce(u.since, b.state_since),
            last_reason = coalesce(u.reason, b.last_reason),
            epoch = u.epoch, updated_at = now()
        FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::int[], ?::int[],
                    ?::timestamptz[], ?::timestamptz[], ?::int[], ?::int[], ?::int[], ?::text[],
                    ?::timestamptz[], ?::text[], ?::bigint[])
             AS u(dependency, state, generation, win, calls, failures, opened_at, retry_at,
                  trips, permits, successes, forced, since, reason, epoch)
        WHERE b.dependency = u.dependency
        """)) {
      int p = 1;
      ps.setArray(p++, c.createArrayOf("text", dep));
      ps.setArray(p++, c.createArrayOf("text", state));
      ps.setArray(p++, c.createArrayOf("int8", gen));
      ps.setArray(p++, c.createArrayOf("text", window));
      ps.setArray(p++, c.createArrayOf("int4", calls));
      ps.setArray(p++, c.createArrayOf("int4", failures));
      ps.setArray(p++, c.createArrayOf("timestamptz", opened));
      ps.setArray(p++, c.createArrayOf("timestamptz", retry));
      ps.setArray(p++, c.createArrayOf("int4", trips));
      ps.setArray(p++, c.createArrayOf("int4", permits));
      ps.setArray(p++, c.createArrayOf("int4", successes));
      ps.setArray(p++, c.createArrayOf("text", forced));
      ps.setArray(p++, c.createArrayOf("timestamptz", since));
      ps.setArray(p++, c.createArrayOf("text", reason));
      ps.setArray(p, c.createArrayOf("int8", epoch));
      ps.executeUpdate();
    }
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  private static Timestamp ts(Instant i) {
    return i == null ? null : Timestamp.from(i);
  }
}
