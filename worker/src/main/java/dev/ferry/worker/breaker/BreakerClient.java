package dev.ferry.worker.breaker;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.BreakerSnapshot;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.CircuitBreakerMachine;
import dev.ferry.core.breaker.CircuitBreakerMachine.Transition;
import dev.ferry.core.loop.Backoff;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker replica's side of the shared circuit breakers. The hot path ({@link #admit}, {@link
 * #record}) never touches the database: it reads a local view and gathers outcomes, one aggregate
 * per dependency ({@link PendingOutcomes}), so a long database outage costs no memory per call. A
 * reporter thread reports them every {@code breaker.report.ms} in one transaction (see {@link
 * BreakerStore}); a listener thread refreshes the view on every transition announced by any replica
 * ({@code LISTEN ferry_breakers}), and a slow poll refreshes it as a safety net. Only trial calls
 * in HALF_OPEN ask the database first, for a cluster-wide permit. Every call carries the admission
 * epoch it was admitted in, so the shared state counts as HALF_OPEN trials only the calls that
 * really are ones.
 *
 * <p>Per-dependency state is bounded: what this replica keeps about a dependency it has not called
 * for {@link #IDLE} is dropped, and beyond {@code maxDependencies} the least recently called CLOSED
 * ones are dropped first (they are reloaded when called again). The view keeps every breaker that
 * is not CLOSED, since those decide whether to call at all. Thread-safe.
 */
public final class BreakerClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BreakerClient.class);

  /** What to do with a call. */
  public sealed interface Decision permits Decision.Proceed, Decision.Defer {
    /**
     * Call the dependency; {@code trial} when it is a HALF_OPEN trial call. {@code epoch} is the
     * breaker's admission epoch the call was admitted in (-1 when its state was not known yet),
     * which its outcome carries to {@link #record}.
     */
    record Proceed(boolean trial, long epoch) implements Decision {
      /** A call without a breaker, or whose breaker's state is not known. */
      public static Proceed unguarded() {
        return new Proceed(false, -1);
      }
    }

    /** Do not call; run the job again at {@code until} (no attempt used up). */
    record Defer(Instant until, String reason) implements Decision {}
  }

  /** How long a dependency may go uncalled before this replica forgets its local state. */
  public static final Duration IDLE = Duration.ofSeconds(60);

  /** The reporter loop's name in {@code ferry.loop.errors} (its thread's name). */
  public static final String REPORTER_LOOP = "ferry-breaker-reporter";

  /** The listener loop's name in {@code ferry.loop.errors} (its thread's name). */
  public static final String LISTENER_LOOP = "ferry-breaker-listener";

  /** How often the reporter reloads the breakers that matter and evicts idle state: 5 s. */
  static final Duration SAFETY_POLL = Duration.ofSeconds(5);

  /** The listener's first reconnect wait: 200 ms, doubling up to {@link #RECONNECT_MAX}. */
  static final Duration RECONNECT_FIRST = Duration.ofMillis(200);

  /** The listener's longest reconnect wait: 5 s. */
  static final Duration RECONNECT_MAX = Duration.ofSeconds(5);

  /** How long one wait for notifications lasts (how soon {@link #close} is seen): 500 ms. */
  static final Duration NOTIFICATION_WAIT = Duration.ofMillis(500);

  /** How long {@link #close} waits for each thread: 2 s. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  /** Jitter added to a local early stop, so deferred jobs do not come back together: 500 ms. */
  static final Duration LOCAL_STOP_JITTER = Duration.ofMillis(500);

  /** The longest local early stop (shorter when the breaker's open time is): 1 s. */
  static final Duration LOCAL_STOP_MAX = Duration.ofSeconds(1);

  /**
   * A trial call that cannot ask the database is deferred this long, plus up to as much again in
   * jitter: 1 s.
   */
  static final Duration TRIAL_UNAVAILABLE_DELAY = Duration.ofSeconds(1);

  /** A trial call whose permits are taken waits open time / 10, at least this: 200 ms. */
  static final Duration TRIAL_WAIT_MIN = Duration.ofMillis(200);

  /** ... and at most this: 5 s (plus as much again in jitter). */
  static final Duration TRIAL_WAIT_MAX = Duration.ofSeconds(5);

  /** A deferred job of an OPEN breaker with no retry time comes back after this: 60 s. */
  static final Duration OPEN_UNKNOWN_RETRY = Duration.ofSeconds(60);

  /** The open time assumed when a breaker does not tell its own: 1 s. */
  static final Duration OPEN_UNKNOWN_LENGTH = Duration.ofSeconds(1);

  /** Deferred jobs of an OPEN breaker spread over a fifth of its open time, at least: 500 ms. */
  static final Duration SPREAD_MIN = Duration.ofMillis(500);

  private final DataSource dataSource;
  private final BreakerStore store;
  private final Function<String, BreakerConfig> configs;
  private final Consumer<Transition> onTransition;
  private final Clock clock;
  private final Duration reportInterval;
  private final int maxDependencies;
  private final WorkerMetrics metrics;
  private final Map<String, BreakerSnapshot> view = new ConcurrentHashMap<>();
  private final Set<String> unknown = ConcurrentHashMap.newKeySet();

  /**
   * This replica's own window per dependency, for a local early stop: when its own calls already
   * cross the threshold it stops calling at once, without waiting for the shared transition to come
   * back from the database (which then confirms it, or not).
   */
  private final Map<String, BreakerSnapshot> local = new ConcurrentHashMap<>();

  private final Map<String, Instant> localStopUntil = new ConcurrentHashMap<>();

  /** When this replica installed the current generation of each breaker in its view. */
  private final Map<String, Instant> learnedAt = new ConcurrentHashMap<>();

  /** When this replica last let a call through, per dependency (for measuring stops). */
  private final Map<String, Instant> lastCallAt = new ConcurrentHashMap<>();

  /** When this replica last asked about a dependency (admit or record): for eviction. */
  private final Map<String, Instant> lastUsed = new ConcurrentHashMap<>();

  private final PendingOutcomes pending;
  private final Thread reporter;
  private final Thread listener;
  private volatile boolean running = true;

  /**
   * @param maxDependencies how many dependencies' local state to keep beyond those not CLOSED
   *     ({@code metrics.max.tags})
   * @param metrics counts failures of the reporter and the listener ({@code ferry.loop.errors})
   */
  public BreakerClient(
      DataSource dataSource,
      Function<String, BreakerConfig> configs,
      Consumer<Transition> onTransition,
      Clock clock,
      Duration reportInterval,
      int maxDependencies,
      WorkerMetrics metrics) {
    if (maxDependencies < 1) {
      throw new IllegalArgumentException("maxDependencies must be >= 1 but was " + maxDependencies);
    }
    this.dataSource = dataSource;
    this.configs = configs;
    this.store = new BreakerStore(configs);
    this.pending = new PendingOutcomes(configs);
    this.onTransition = onTransition;
    this.clock = clock;
    this.reportInterval = reportInterval;
    this.maxDependencies = maxDependencies;
    this.metrics = metrics;
    this.reporter = Thread.ofPlatform().name(REPORTER_LOOP).daemon().unstarted(this::reportLoop);
    this.listener = Thread.ofPlatform().name(LISTENER_LOOP).daemon().unstarted(this::listenLoop);
  }

  public void start() {
    reporter.start();
    listener.start();
  }

  /** The current local view of a dependency's breaker (null if never seen). */
  public BreakerSnapshot view(String dependency) {
    return view.get(dependency);
  }

  /** Decides a call from the local view; only a HALF_OPEN trial asks the database. */
  public Decision admit(String dependency) {
    BreakerSnapshot s = view.get(dependency);
    Instant now = clock.instant();
    lastUsed.put(dependency, now);
    if (s == null) {
      unknown.add(dependency);
      lastCallAt.put(dependency, now);
      return Decision.Proceed.unguarded();
    }
    return switch (CircuitBreakerMachine.admit(s, now)) {
      case CALL -> {
        Instant stop = localStopUntil.get(dependency);
        if (stop != null && now.isBefore(stop) && s.forced() != BreakerState.CLOSED) {
          yield new Decision.Defer(
              stop.plusMillis(ThreadLocalRandom.current().nextLong(LOCAL_STOP_JITTER.toMillis())),
              "circuit breaker for " + dependency + " is opening");
        }
        lastCallAt.put(dependency, now);
        yield new Decision.Proceed(false, s.epoch());
      }
      case DEFER ->
          new Decision.Defer(spread(s, now), "circuit breaker for " + dependency + " is OPEN");
      case TRIAL -> trial(dependency, s, now);
    };
  }

  private Decision trial(String dependency, BreakerSnapshot s, Instant now) {
    List<Transition> transitions = new ArrayList<>();
    BreakerStore.Grant grant;
    try (Connection c = dataSource.getConnection()) {
      grant = store.permit(c, dependency, transitions);
      Map<String, BreakerSnapshot> fresh = store.load(c, List.of(dependency));
      fresh.values().forEach(this::update);
    } catch (SQLException | RuntimeException e) {
      log.warn(
          "Could not ask for a trial call to {} (database unavailable?): {}",
          dependency,
          e.toString());
      long delay = TRIAL_UNAVAILABLE_DELAY.toMillis();
      return new Decision.Defer(
          now.plusMillis(delay + ThreadLocalRandom.current().nextLong(delay)),
          "circuit breaker for " + dependency + " is " + s.state() + " (state unavailable)");
    }
    transitions.forEach(this::announce);
    if (grant.granted()) {
      return new Decision.Proceed(true, grant.epoch());
    }
    long wait =
        Math.max(
            TRIAL_WAIT_MIN.toMillis(),
            Math.min(TRIAL_WAIT_MAX.toMillis(), configs.apply(dependency).openMs() / 10));
    return new Decision.Defer(
        now.plusMillis(wait + ThreadLocalRandom.current().nextLong(wait)),
        "circuit breaker for " + dependency + " is HALF_OPEN and its trial calls are taken");
  }

  /**
   * When a deferred job should come back: {@code retry_at} plus jitter, so they do not stampede.
   */
  private static Instant spread(BreakerSnapshot s, Instant now) {
    Instant base = s.retryAt() == null ? now.plus(OPEN_UNKNOWN_RETRY) : s.retryAt();
    long open =
        s.openedAt() == null || s.retryAt() == null
            ? OPEN_UNKNOWN_LENGTH.toMillis()
            : Duration.between(s.openedAt(), s.retryAt()).toMillis();
    long spread = Math.max(SPREAD_MIN.toMillis(), open / 5);
    return base.plusMillis(ThreadLocalRandom.current().nextLong(spread));
  }

  /**
   * Adds a call outcome to the next report; trial outcomes are reported at once.
   *
   * @param admitted what {@link #admit} answered for this call (its epoch and whether it was a
   *     trial)
   */
  public void record(String dependency, Call call, Decision.Proceed admitted) {
    boolean trial = admitted.trial();
    pending.add(dependency, call, admitted.epoch());
    lastUsed.put(dependency, clock.instant());
    if (!trial) {
      BreakerConfig cfg = configs.apply(dependency);
      Instant now = clock.instant();
      local.compute(
          dependency,
          (d, s) -> {
            BreakerSnapshot base =
                s == null || s.state() != BreakerState.CLOSED
                    ? BreakerSnapshot.closed(d, cfg, now)
                    : s;
            CircuitBreakerMachine.Step step =
                CircuitBreakerMachine.record(base, List.of(call), now, cfg);
            if (step.transition() != null) {
              // Stop locally until the shared state (which this report will update) is known.
              localStopUntil.put(
                  d, now.plusMillis(Math.min(cfg.openMs(), LOCAL_STOP_MAX.toMillis())));
              LockSupport.unpark(reporter);
              return BreakerSnapshot.closed(d, cfg, now);
            }
            return step.snapshot();
          });
    }
    if (trial) {
      LockSupport.unpark(reporter);
    }
  }

  private void reportLoop() {
    long lastPoll = 0;
    while (running) {
      LockSupport.parkNanos(reportInterval.toNanos());
      try {
        flush();
        if (!unknown.isEmpty()) {
          refresh(Set.copyOf(unknown));
        }
        if (System.nanoTime() - lastPoll > SAFETY_POLL.toNanos()) {
          evict(clock.instant());
          refresh(null);
          lastPoll = System.nanoTime();
        }
      } catch (Throwable t) {
        metrics.loopError(REPORTER_LOOP);
        log.warn("Reporting breaker outcomes failed, will retry: {}", t.toString());
      }
    }
    try {
      flush();
    } catch (Throwable t) {
      log.warn("Final breaker report failed: {}", t.toString());
    }
  }

  private void flush() throws Exception {
    List<BreakerStore.Batch> done = new ArrayList<>(1);
    pending.flush(
        outcomes -> {
          try (Connection c = dataSource.getConnection()) {
            done.add(store.report(c, outcomes));
          }
        });
    for (BreakerStore.Batch b : done) {
      b.snapshots().values().forEach(this::update);
      b.transitions().forEach(this::announce);
    }
  }

  /**
   * Loads the given breakers, or (null) every breaker that is not CLOSED plus those this replica
   * knows: never the whole table, which has a row per dependency ever called.
   */
  private void refresh(Set<String> deps) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Map<String, BreakerSnapshot> loaded =
          deps == null ? store.loadActive(c, Set.copyOf(view.keySet())) : store.load(c, deps);
      loaded.values().forEach(this::update);
      // Dependencies never seen in the database are CLOSED; stop asking for them.
      unknown.removeAll(deps == null ? loaded.keySet() : deps);
    }
  }

  /**
   * Forgets dependencies not called for {@link #IDLE}, then the least recently called ones beyond
   * {@code maxDependencies}. Breakers that are not CLOSED stay in the view (they decide whether to
   * call at all; the slow poll reloads them anyway).
   */
  void evict(Instant now) {
    Instant idleSince = now.minus(IDLE);
    for (Map.Entry<String, Instant> e : lastUsed.entrySet()) {
      if (e.getValue().isBefore(idleSince)) {
        forget(e.getKey());
      }
    }
    int excess = lastUsed.size() - maxDependencies;
    if (excess > 0) {
      lastUsed.entrySet().stream()
          .sorted(Map.Entry.comparingByValue())
          .limit(excess)
          .map(Map.Entry::getKey)
          .toList()
          .forEach(this::forget);
    }
    // Entries that refreshes made for dependencies this replica does not call.
    for (String d : view.keySet()) {
      if (!lastUsed.containsKey(d)) {
        forget(d);
      }
    }
  }

  /** Drops the local state of a dependency; its view only when CLOSED (automatic). */
  private void forget(String d) {
    lastUsed.remove(d);
    local.remove(d);
    localStopUntil.remove(d);
    lastCallAt.remove(d);
    unknown.remove(d);
    BreakerSnapshot s = view.get(d);
    if (s != null && s.state() == BreakerState.CLOSED && s.forced() == null && view.remove(d, s)) {
      learnedAt.remove(d);
    }
  }

  /** The largest of this replica's per-dependency maps (for tests of the bound). */
  int tracked() {
    return List.of(
            lastUsed.size(),
            local.size(),
            localStopUntil.size(),
            lastCallAt.size(),
            unknown.size(),
            view.size(),
            learnedAt.size())
        .stream()
        .mapToInt(i -> i)
        .max()
        .orElse(0);
  }

  /** Dependencies whose outcomes wait for the next report (at most one entry each). */
  public int pendingDependencies() {
    return pending.size();
  }

  /**
   * Takes a breaker's state as read from the database (or announced) into the view, unless the view
   * already holds a newer generation.
   */
  void update(BreakerSnapshot s) {
    BreakerSnapshot before = view.get(s.dependency());
    view.merge(s.dependency(), s, (old, neu) -> neu.generation() >= old.generation() ? neu : old);
    if (before == null || s.generation() > before.generation()) {
      learnedAt.put(s.dependency(), clock.instant());
    }
  }

  /**
   * When this replica learned of the breaker's current state (its generation), or null: the moment
   * from which its admissions follow that state. For measuring propagation.
   */
  public Instant learnedAt(String dependency) {
    return learnedAt.get(dependency);
  }

  /** When this replica last let a (non-trial) call to the dependency through, or null. */
  public Instant lastCallAt(String dependency) {
    return lastCallAt.get(dependency);
  }

  private void announce(Transition t) {
    if (t.to() == BreakerState.OPEN) {
      log.warn(
          "Circuit breaker for {} OPEN ({}), retry at {}",
          t.dependency(),
          t.reason(),
          view.get(t.dependency()) == null ? "?" : view.get(t.dependency()).retryAt());
    } else {
      log.info("Circuit breaker for {} {} ({})", t.dependency(), t.to(), t.reason());
    }
    try {
      onTransition.accept(t);
    } catch (RuntimeException e) {
      log.warn("Publishing the breaker transition failed: {}", e.toString());
    }
  }

  private void listenLoop() {
    Backoff backoff = new Backoff(RECONNECT_FIRST, RECONNECT_MAX);
    while (running) {
      try (Connection c = dataSource.getConnection()) {
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + BreakerStore.CHANNEL);
        }
        refresh(null);
        backoff.reset();
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] ns = pg.getNotifications((int) NOTIFICATION_WAIT.toMillis());
          if (ns != null && ns.length > 0) {
            Set<String> deps = new HashSet<>();
            for (PGNotification n : ns) {
              deps.add(n.getParameter());
            }
            refresh(deps);
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!running) {
          return;
        }
        metrics.loopError(LISTENER_LOOP);
        long waitMs = backoff.next();
        log.warn(
            "Breaker listener lost the database, reconnecting in {} ms: {}", waitMs, e.toString());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(waitMs));
      }
    }
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(reporter);
    try {
      reporter.join(CLOSE_TIMEOUT.toMillis());
      listener.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
