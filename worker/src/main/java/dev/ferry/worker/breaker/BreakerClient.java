package dev.ferry.worker.breaker;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.BreakerSnapshot;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.CircuitBreakerMachine;
import dev.ferry.core.breaker.CircuitBreakerMachine.Transition;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * A worker replica's side of the shared circuit breakers. The hot path ({@link #admit},
 * {@link #record}) never touches the database: it reads a local view and queues outcomes. A
 * reporter thread flushes queued outcomes every {@code breaker.report.ms} in one transaction
 * (see {@link BreakerStore}); a listener thread refreshes the view on every transition
 * announced by any replica ({@code LISTEN ferry_breakers}), and a slow poll refreshes it as a
 * safety net. Only trial calls in HALF_OPEN ask the database first, for a cluster-wide permit.
 * Thread-safe.
 */
public final class BreakerClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BreakerClient.class);

  /** What to do with a call. */
  public sealed interface Decision permits Decision.Proceed, Decision.Defer {
    /** Call the dependency; {@code trial} when it is a HALF_OPEN trial call. */
    record Proceed(boolean trial) implements Decision {}

    /** Do not call; run the job again at {@code until} (no attempt used up). */
    record Defer(Instant until, String reason) implements Decision {}
  }

  private record Reported(String dependency, Call call) {}

  private final DataSource dataSource;
  private final BreakerStore store;
  private final Function<String, BreakerConfig> configs;
  private final Consumer<Transition> onTransition;
  private final Clock clock;
  private final Duration reportInterval;
  private final Map<String, BreakerSnapshot> view = new ConcurrentHashMap<>();
  private final Set<String> unknown = ConcurrentHashMap.newKeySet();
  /**
   * This replica's own window per dependency, for a local early stop: when its own calls
   * already cross the threshold it stops calling at once, without waiting for the shared
   * transition to come back from the database (which then confirms it, or not).
   */
  private final Map<String, BreakerSnapshot> local = new ConcurrentHashMap<>();
  private final Map<String, Instant> localStopUntil = new ConcurrentHashMap<>();
  /** When this replica installed the current generation of each breaker in its view. */
  private final Map<String, Instant> learnedAt = new ConcurrentHashMap<>();
  /** When this replica last let a call through, per dependency (for measuring stops). */
  private final Map<String, Instant> lastCallAt = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Reported> queue = new ConcurrentLinkedQueue<>();
  private final Thread reporter;
  private final Thread listener;
  private volatile boolean running = true;

  public BreakerClient(
      DataSource dataSource, Function<String, BreakerConfig> configs,
      Consumer<Transition> onTransition, Clock clock, Duration reportInterval) {
    this.dataSource = dataSource;
    this.configs = configs;
    this.store = new BreakerStore(configs);
    this.onTransition = onTransition;
    this.clock = clock;
    this.reportInterval = reportInterval;
    this.reporter = Thread.ofPlatform().name("ferry-breaker-reporter").daemon().unstarted(this::reportLoop);
    this.listener = Thread.ofPlatform().name("ferry-breaker-listener").daemon().unstarted(this::listenLoop);
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
    if (s == null) {
      unknown.add(dependency);
      lastCallAt.put(dependency, clock.instant());
      return new Decision.Proceed(false);
    }
    Instant now = clock.instant();
    return switch (CircuitBreakerMachine.admit(s, now)) {
      case CALL -> {
        Instant stop = localStopUntil.get(dependency);
        if (stop != null && now.isBefore(stop) && s.forced() != BreakerState.CLOSED) {
          yield new Decision.Defer(stop.plusMillis(ThreadLocalRandom.current().nextLong(500)),
              "circuit breaker for " + dependency + " is opening");
        }
        lastCallAt.put(dependency, now);
        yield new Decision.Proceed(false);
      }
      case DEFER -> new Decision.Defer(spread(s, now), "circuit breaker for " + dependency + " is OPEN");
      case TRIAL -> trial(dependency, s, now);
    };
  }

  private Decision trial(String dependency, BreakerSnapshot s, Instant now) {
    List<Transition> transitions = new ArrayList<>();
    boolean granted;
    try (Connection c = dataSource.getConnection()) {
      granted = store.acquire(c, dependency, transitions);
      Map<String, BreakerSnapshot> fresh = store.load(c, List.of(dependency));
      fresh.values().forEach(this::update);
    } catch (SQLException | RuntimeException e) {
      log.warn("Could not ask for a trial call to {} (database unavailable?): {}", dependency,
          e.toString());
      return new Decision.Defer(now.plusMillis(1000 + ThreadLocalRandom.current().nextLong(1000)),
          "circuit breaker for " + dependency + " is " + s.state() + " (state unavailable)");
    }
    transitions.forEach(this::announce);
    if (granted) {
      return new Decision.Proceed(true);
    }
    long wait = Math.max(200, Math.min(5_000, configs.apply(dependency).openMs() / 10));
    return new Decision.Defer(now.plusMillis(wait + ThreadLocalRandom.current().nextLong(wait)),
        "circuit breaker for " + dependency + " is HALF_OPEN and its trial calls are taken");
  }

  /** When a deferred job should come back: {@code retry_at} plus jitter, so they do not stampede. */
  private static Instant spread(BreakerSnapshot s, Instant now) {
    Instant base = s.retryAt() == null ? now.plusSeconds(60) : s.retryAt();
    long open = s.openedAt() == null || s.retryAt() == null ? 1000
        : Duration.between(s.openedAt(), s.retryAt()).toMillis();
    long spread = Math.max(500, open / 5);
    return base.plusMillis(ThreadLocalRandom.current().nextLong(spread));
  }

  /** Queues a call outcome for the next report; trial outcomes are reported at once. */
  public void record(String dependency, Call call, boolean trial) {
    queue.add(new Reported(dependency, call));
    if (!trial) {
      BreakerConfig cfg = configs.apply(dependency);
      Instant now = clock.instant();
      local.compute(dependency, (d, s) -> {
        BreakerSnapshot base = s == null || s.state() != BreakerState.CLOSED
            ? BreakerSnapshot.closed(d, cfg, now) : s;
        CircuitBreakerMachine.Step step = CircuitBreakerMachine.record(base, List.of(call), now, cfg);
        if (step.transition() != null) {
          // Stop locally until the shared state (which this report will update) is known.
          localStopUntil.put(d, now.plusMillis(Math.min(cfg.openMs(), 1_000)));
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
        if (System.nanoTime() - lastPoll > TimeUnit.SECONDS.toNanos(5) || !unknown.isEmpty()) {
          refresh(null);
          lastPoll = System.nanoTime();
        }
      } catch (Throwable t) {
        log.warn("Reporting breaker outcomes failed, will retry: {}", t.toString());
      }
    }
    try {
      flush();
    } catch (Throwable t) {
      log.warn("Final breaker report failed: {}", t.toString());
    }
  }

  private void flush() throws SQLException {
    Map<String, List<Call>> calls = new LinkedHashMap<>();
    List<Reported> drained = new ArrayList<>();
    Reported r;
    while ((r = queue.poll()) != null) {
      drained.add(r);
      calls.computeIfAbsent(r.dependency(), k -> new ArrayList<>()).add(r.call());
    }
    if (calls.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      BreakerStore.Batch b = store.record(c, calls);
      b.snapshots().values().forEach(this::update);
      b.transitions().forEach(this::announce);
    } catch (SQLException | RuntimeException e) {
      queue.addAll(drained);
      throw e;
    }
  }

  private void refresh(Set<String> deps) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Map<String, BreakerSnapshot> loaded = store.load(c, deps);
      loaded.values().forEach(this::update);
      unknown.removeAll(loaded.keySet());
      if (deps == null) {
        // Dependencies never seen in the database are CLOSED; stop asking for them.
        unknown.clear();
      }
    }
  }

  private void update(BreakerSnapshot s) {
    BreakerSnapshot before = view.get(s.dependency());
    view.merge(s.dependency(), s, (old, neu) -> neu.generation() >= old.generation() ? neu : old);
    if (before == null || s.generation() > before.generation()) {
      learnedAt.put(s.dependency(), clock.instant());
    }
  }

  /**
   * When this replica learned of the breaker's current state (its generation), or null: the
   * moment from which its admissions follow that state. For measuring propagation.
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
      log.warn("Circuit breaker for {} OPEN ({}), retry at {}", t.dependency(), t.reason(),
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
    long backoffMs = 200;
    while (running) {
      try (Connection c = dataSource.getConnection()) {
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + BreakerStore.CHANNEL);
        }
        refresh(null);
        backoffMs = 200;
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] ns = pg.getNotifications(500);
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
        log.warn("Breaker listener lost the database, reconnecting in {} ms: {}", backoffMs,
            e.toString());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(reporter);
    try {
      reporter.join(2_000);
      listener.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
