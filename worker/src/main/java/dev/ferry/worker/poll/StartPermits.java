package dev.ferry.worker.poll;

import dev.ferry.worker.flow.RateGrants;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll loop's side of the fleet-wide rate limits: a job of a dependency with a rate limit
 * starts only with a start permit from {@link RateGrants}. The poll thread counts, per pass, the
 * permits its buffered jobs need ({@link #tryTake}); one request per dependency goes to the
 * database on this class's own thread ({@link #request}), never one per job and never on the poll
 * thread; the grant comes back as a {@link LoopEvent.Permits} and wakes the poll loop. When fewer
 * were granted than asked, the next request waits until a permit frees. A permit not used within
 * {@link #validity} of its grant is dropped (the rate's margin covers only that long).
 *
 * <p>Which dependencies have a rate limit is read every {@link #REFRESH} (a live change applies
 * within it). Jobs waiting for a permit stay in the buffer without a slot; when the buffer fills
 * with them, the poll loop hands them back (deferred, no attempt used).
 *
 * <p>Poll thread only, except the refresh and the requests, which run on the permits thread.
 */
final class StartPermits implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StartPermits.class);

  /** How often the dependencies with a rate limit are read: 500 ms. */
  static final Duration REFRESH = Duration.ofMillis(500);

  /** How long to wait before asking again after a failed request: 200 ms. */
  static final Duration RETRY_AFTER_ERROR = Duration.ofMillis(200);

  private final RateGrants grants;
  private final Consumer<LoopEvent> events;
  private final Runnable wakeup;
  private final ScheduledExecutorService thread;
  private final long validityNanos;

  /** Dependencies with a rate limit (replaced by the refresh). */
  private volatile Map<String, Boolean> rated = Map.of();

  /** Granted, unused permits per dependency: their grant times (nanoTime). Poll thread only. */
  private final Map<String, ArrayDeque<Long>> available = new HashMap<>();

  /** Permits the buffered jobs needed in this pass. Poll thread only. */
  private final Map<String, Integer> demand = new HashMap<>();

  /** The jobs counted in {@link #demand} (each once per pass). Poll thread only. */
  private final Set<Object> counted =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  /** Dependencies with a request out. Poll thread only. */
  private final Set<String> asking = new HashSet<>();

  /** When a dependency may be asked again (nanoTime), after a partial grant. Poll thread only. */
  private final Map<String, Long> notBefore = new HashMap<>();

  /**
   * @param grants the database side, or null: no rate limits (every job starts at once)
   * @param validity how long a granted permit may wait for its job
   */
  StartPermits(RateGrants grants, Consumer<LoopEvent> events, Runnable wakeup, Duration validity) {
    this.grants = grants;
    this.events = events;
    this.wakeup = wakeup;
    this.validityNanos = validity.toNanos();
    if (grants == null) {
      this.thread = null;
      return;
    }
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("ferry-worker-permits").daemon().unstarted(r));
    t.setRemoveOnCancelPolicy(true);
    this.thread = t;
    var unused =
        thread.scheduleWithFixedDelay(this::refresh, 0, REFRESH.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Rereads which dependencies have a rate limit (on the permits thread). */
  private void refresh() {
    try {
      rated = grants.rated();
    } catch (Exception e) {
      log.debug("Could not read the rate limits (kept the last known): {}", e.toString());
    }
  }

  /** Whether a dependency has a rate limit (as last read). */
  boolean limited(String dependency) {
    return dependency != null && rated.containsKey(dependency);
  }

  /**
   * Takes a permit for a job of {@code dependency} if it needs one and one is available; otherwise
   * counts the need for the next {@link #request} and returns false (the job waits).
   */
  boolean tryTake(String dependency, Object job) {
    if (!limited(dependency)) {
      return true;
    }
    ArrayDeque<Long> q = available.get(dependency);
    long now = System.nanoTime();
    while (q != null && !q.isEmpty()) {
      long granted = q.poll();
      if (now - granted <= validityNanos) {
        return true;
      }
    }
    if (counted.add(job)) {
      demand.merge(dependency, 1, Integer::sum);
    }
    return false;
  }

  /** Whether a job of {@code dependency} would wait for a permit now. Poll thread only. */
  boolean mustWait(String dependency) {
    if (!limited(dependency)) {
      return false;
    }
    ArrayDeque<Long> q = available.get(dependency);
    return q == null || q.isEmpty();
  }

  /** Asks for the permits counted in this pass (one request per dependency), then forgets them. */
  void request() {
    counted.clear();
    if (demand.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (Map.Entry<String, Integer> e : demand.entrySet()) {
      String dep = e.getKey();
      Long after = notBefore.get(dep);
      if (asking.contains(dep) || (after != null && now < after)) {
        continue;
      }
      notBefore.remove(dep);
      asking.add(dep);
      int wanted = e.getValue();
      var unused = thread.submit(() -> ask(dep, wanted));
    }
    demand.clear();
  }

  /** On the permits thread: one grant, reported to the poll loop. */
  private void ask(String dep, int wanted) {
    RateGrants.Grant g;
    try {
      g = grants.grant(dep, wanted);
    } catch (Exception e) {
      log.warn("Could not get start permits for {}: {}", dep, e.toString());
      g = new RateGrants.Grant(0, Instant.now().plus(RETRY_AFTER_ERROR), true);
    }
    events.accept(new LoopEvent.Permits(dep, wanted, g));
    wakeup.run();
  }

  /** A grant came back (poll thread). */
  void granted(LoopEvent.Permits p) {
    asking.remove(p.dependency());
    RateGrants.Grant g = p.grant();
    if (!g.limited()) {
      rated = withoutKey(rated, p.dependency());
      return;
    }
    long now = System.nanoTime();
    if (g.granted() > 0) {
      ArrayDeque<Long> q = available.computeIfAbsent(p.dependency(), k -> new ArrayDeque<>());
      for (int i = 0; i < g.granted(); i++) {
        q.add(now);
      }
    }
    if (g.granted() < p.wanted() && g.nextFree() != null) {
      long waitMs = Math.max(1, Duration.between(Instant.now(), g.nextFree()).toMillis());
      notBefore.put(p.dependency(), now + TimeUnit.MILLISECONDS.toNanos(waitMs));
      var unused = thread.schedule(wakeup, waitMs, TimeUnit.MILLISECONDS);
    }
  }

  private static Map<String, Boolean> withoutKey(Map<String, Boolean> m, String key) {
    if (!m.containsKey(key)) {
      return m;
    }
    Map<String, Boolean> copy = new HashMap<>(m);
    copy.remove(key);
    return copy;
  }

  @Override
  public void close() {
    if (thread != null) {
      thread.shutdownNow();
    }
  }
}
