package dev.ferry.worker.exec;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.breaker.BreakerClient;
import dev.ferry.worker.handlers.HandlerRegistry;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker around attempts: which dependency an item calls, whether it may call it now
 * ({@link BreakerClient#admit}), and what its outcome counts for the breaker (retryable failures
 * and timeouts are failures; slow calls are slow). Also knows each dependency's bulkhead.
 * Thread-safe; each attempt has its own {@link GuardedCall}.
 */
final class BreakerGuard {
  private static final Logger log = LoggerFactory.getLogger(BreakerGuard.class);

  /** The breaker side of one attempt: its dependency, its admission, when it called. */
  static final class GuardedCall {
    private volatile String dependency;
    private volatile BreakerClient.Decision.Proceed admitted;
    private volatile boolean called;
    private volatile long calledAtNanos;

    /** The handler is about to be called: its run time counts from now. */
    void calling() {
      calledAtNanos = System.nanoTime();
      called = true;
    }
  }

  private final HandlerRegistry handlers;
  private final BreakerClient breakers;
  private final Function<String, BreakerConfig> configs;

  /**
   * @param breakers the shared circuit breakers, or null to call dependencies unguarded
   */
  BreakerGuard(
      HandlerRegistry handlers, BreakerClient breakers, Function<String, BreakerConfig> configs) {
    this.handlers = handlers;
    this.breakers = breakers;
    this.configs = configs;
  }

  /** The dependency (breaker key) of a work item: its own, or what its handler derives. */
  String dependencyOf(WorkItem item) {
    if (item.dependency() != null) {
      return item.dependency();
    }
    JobHandler h = handlers.get(item.type());
    try {
      return h == null ? null : h.dependency(item.payload());
    } catch (RuntimeException e) {
      log.warn("Handler {} failed to derive a dependency: {}", item.type(), e.toString());
      return null;
    }
  }

  /** The per-worker concurrency limit of a dependency (0 = none). */
  int bulkhead(String dependency) {
    return dependency == null ? 0 : configs.apply(dependency).bulkhead();
  }

  /** Asks the breaker whether to call; remembers the dependency and admission in {@code call}. */
  BreakerClient.Decision admit(WorkItem item, GuardedCall call) {
    if (breakers == null) {
      return BreakerClient.Decision.Proceed.unguarded();
    }
    String dep = dependencyOf(item);
    if (dep == null) {
      return BreakerClient.Decision.Proceed.unguarded();
    }
    call.dependency = dep;
    BreakerClient.Decision d = breakers.admit(dep);
    if (d instanceof BreakerClient.Decision.Proceed p) {
      call.admitted = p;
    }
    return d;
  }

  /**
   * Counts a finished call for the breaker, if the handler was called after an admission; {@code
   * call} may be null (nothing to count).
   */
  void record(Outcome outcome, GuardedCall call) {
    if (call == null
        || !call.called
        || call.dependency == null
        || call.admitted == null
        || breakers == null) {
      return;
    }
    long ms = (System.nanoTime() - call.calledAtNanos) / 1_000_000;
    boolean slow = ms >= configs.apply(call.dependency).slowCallMs();
    Call c =
        switch (outcome) {
          case Outcome.Succeeded s -> new Call(false, slow);
          case Outcome.Spawned s -> new Call(false, slow);
          case Outcome.Failed f -> new Call(f.retryable(), slow);
          case Outcome.TimedOut t -> new Call(true, true);
          case Outcome.Deferred d -> null;
        };
    if (c != null) {
      breakers.record(call.dependency, c, call.admitted);
    }
  }
}
