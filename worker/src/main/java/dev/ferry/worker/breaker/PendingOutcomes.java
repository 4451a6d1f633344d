package dev.ferry.worker.breaker;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.Outcomes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Call outcomes a worker has not reported to the shared breaker state yet: one {@link Outcomes} per
 * dependency, so memory stays O(dependencies × window) however many calls finish while PostgreSQL
 * is away. A failed report is put back in front of what was recorded meanwhile, and the whole
 * aggregate is applied once when the database is back. Thread-safe: callers record concurrently
 * with one flushing thread.
 */
final class PendingOutcomes {
  /** Where a report goes: the shared state, in one transaction. */
  @FunctionalInterface
  interface Sink {
    void report(Map<String, Outcomes> outcomes) throws Exception;
  }

  private final Function<String, BreakerConfig> configs;
  private final Map<String, Outcomes> pending = new ConcurrentHashMap<>();

  PendingOutcomes(Function<String, BreakerConfig> configs) {
    this.configs = configs;
  }

  /** Adds a call admitted in {@code epoch} (-1: the breaker's state was not known). */
  void add(String dependency, Call call, long epoch) {
    BreakerConfig cfg = configs.apply(dependency);
    // The value is confined to this map entry: compute holds its bin while it changes.
    pending.compute(
        dependency,
        (d, o) -> {
          Outcomes out = o == null ? Outcomes.forConfig(cfg) : o;
          out.add(call, epoch);
          return out;
        });
  }

  /**
   * Takes everything pending and hands it to {@code sink}; if that throws, puts it back (older than
   * anything recorded meanwhile) and rethrows. Not to be called by two threads at once.
   */
  void flush(Sink sink) throws Exception {
    Map<String, Outcomes> taken = new LinkedHashMap<>();
    for (String dep : pending.keySet()) {
      Outcomes o = pending.remove(dep);
      if (o != null) {
        taken.put(dep, o);
      }
    }
    if (taken.isEmpty()) {
      return;
    }
    try {
      sink.report(taken);
    } catch (Exception | Error e) {
      taken.forEach(
          (dep, older) ->
              pending.compute(dep, (d, newer) -> newer == null ? older : older.absorb(newer)));
      throw e;
    }
  }

  /** Dependencies with outcomes waiting (at most one entry each). */
  int size() {
    return pending.size();
  }

  boolean contains(String dependency) {
    return pending.containsKey(dependency);
  }
}
