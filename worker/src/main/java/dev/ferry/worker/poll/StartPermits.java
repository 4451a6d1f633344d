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
 * its validity after its slot is dropped. The job thread reports when it calls the dependency with
 * its permit ({@link #called}); those calls go to the database every {@link #CALL_REPORT}, so later
 * grants count from the real calls.
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

  /**
   * Wakes the poll loop at permits' slots: a thread of its own, so that a slot is never late behind
   * a grant or a report on the database.
   */
  private final ScheduledExecutorService wakeups;

  private final long validityNanos;

  /** Dependencies with a rate limit (replaced by the refresh). */
  private volatile Map<String, Boolean> rated = Map.of();

  /** A granted, unused permit: its id and its slot (nanoTime): its job starts then, not before. */
  private record Permit(long id, long slotNanos) {}

  /** Granted, unused permits per dependency. Poll thread only. */
  private final Map<String, ArrayDeque<Permit>> available = new HashMap<>();

  /** Calls made with permits, reported in batches ({@link #flushCalls}). Any thread. */
  private final java.util.concurrent.ConcurrentLinkedQueue<RateGrants.Call> calls =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** How often calls made with permits are reported: every 10 ms. */
  static final Duration CALL_REPORT = Duration.ofMillis(10);

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
   * @param validity how long after its slot an unused permit is dropped
   */
  StartPermits(RateGrants grants, Consumer<LoopEvent> events, Runnable wakeup, Duration validity) {
    this.grants = grants;
    this.events = events;
    this.wakeup = wakeup;
    this.validityNanos = validity.toNanos();
    if (grants == null) {
      this.thread = null;
      this.wakeups = null;
      return;
    }
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("ferry-worker-permits").daemon().unstarted(r));
    t.setRemoveOnCancelPolicy(true);
    this.thread = t;
    ScheduledThreadPoolExecutor w =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("ferry-worker-permit-slots").daemon().unstarted(r));
    w.setRemoveOnCancelPolicy(true);
    this.wakeups = w;
    var unused =
        thread.scheduleWithFixedDelay(this::refresh, 0, REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    var unused2 =
        thread.scheduleWithFixedDelay(
            this::flushCalls,
            CALL_REPORT.toMillis(),
            CALL_REPORT.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** A job thread is about to call its dependency with {@code permit} (thread-safe). */
  void called(long permit) {
    calls.add(new RateGrants.Call(permit, Instant.now()));
  }

  /** Reports the calls made with permits (on the permits thread). */
  private void flushCalls() {
    if (calls.isEmpty()) {
      return;
    }
    java.util.List<RateGrants.Call> batch = new java.util.ArrayList<>();
    RateGrants.Call c;
    while ((c = calls.poll()) != null) {
      batch.add(c);
    }
    try {
      grants.called(batch);
    } catch (Exception e) {
      log.warn("Could not report {} calls made with start permits: {}", batch.size(), e.toString());
    }
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
   * A permit whose slot is this close is taken already: its job's thread waits for the slot itself
   * and calls on time, instead of the poll loop waking up late for it: 30 ms.
   */
  static final Duration LEAD = Duration.ofMillis(30);

  /** {@link #tryTake}: the job needs no permit. */
  static final Runnable NO_PERMIT_NEEDED = () -> {};

  /**
   * Takes a permit for a job of {@code dependency} if it needs one and one is available (its slot
   * within {@link #LEAD}). Returns what the job's thread runs right before it calls the dependency
   * (waits for the slot, then reports the call), {@link #NO_PERMIT_NEEDED}, or null: the job waits,
   * and its need is counted for the next {@link #request}.
   */
  Runnable tryTake(String dependency, Object job) {
    if (!limited(dependency)) {
      return NO_PERMIT_NEEDED;
    }
    ArrayDeque<Permit> q = available.get(dependency);
    long now = System.nanoTime();
    while (q != null && !q.isEmpty()) {
      Permit p = q.peek();
      if (now - p.slotNanos() > validityNanos) {
        q.poll(); // its slot passed unused
        continue;
      }
      if (p.slotNanos() <= now + LEAD.toNanos()) {
        q.poll();
        return () -> {
          awaitSlot(p.slotNanos());
          called(p.id());
        };
      }
      break; // the next slot is still ahead: a wake-up is scheduled for it
    }
    if (counted.add(job)) {
      demand.merge(dependency, 1, Integer::sum);
    }
    return null;
  }

  /** On a job's thread: waits until {@code slotNanos} (System.nanoTime). */
  private static void awaitSlot(long slotNanos) {
    long left;
    while ((left = slotNanos - System.nanoTime()) > 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(left);
    }
  }

  /** Whether a job of {@code dependency} would wait for a permit now. Poll thread only. */
  boolean mustWait(String dependency) {
    if (!limited(dependency)) {
      return false;
    }
    ArrayDeque<Permit> q = available.get(dependency);
    return q == null || q.isEmpty() || q.peek().slotNanos() > System.nanoTime() + LEAD.toNanos();
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
      ArrayDeque<Permit> held = available.get(dep);
      int wanted = e.getValue() - (held == null ? 0 : held.size());
      if (wanted <= 0) {
        continue; // the permits held cover the waiting jobs: their slots come
      }
      notBefore.remove(dep);
      asking.add(dep);
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
    Instant wallNow = Instant.now();
    if (g.permits().length > 0) {
      ArrayDeque<Permit> q = available.computeIfAbsent(p.dependency(), k -> new ArrayDeque<>());
      for (int i = 0; i < g.permits().length; i++) {
        long delay = Duration.between(wallNow, g.slots()[i]).toNanos();
        q.add(new Permit(g.permits()[i], now + Math.max(0, delay)));
        long wake = delay - LEAD.toNanos();
        if (wake > 0) {
          var unused = wakeups.schedule(wakeup, wake, TimeUnit.NANOSECONDS);
        }
      }
    }
    if (g.granted() < p.wanted() && g.nextFree() != null) {
      long waitMs = Math.max(1, Duration.between(Instant.now(), g.nextFree()).toMillis());
      notBefore.put(p.dependency(), now + TimeUnit.MILLISECONDS.toNanos(waitMs));
      var unused = wakeups.schedule(wakeup, waitMs, TimeUnit.MILLISECONDS);
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
      flushCalls();
      thread.shutdownNow();
      wakeups.shutdownNow();
    }
  }
}
