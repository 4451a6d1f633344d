package dev.ferry.worker.exec;

import dev.ferry.core.model.WorkItem;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where cancellations meet attempts: the attempts running now, by job id, so that a cancellation
 * interrupts their thread; and the jobs cancelled recently, with the run that was cancelled, so
 * that work items of that run (or an earlier one) arriving later do not start. A later re-drive of
 * the job has a higher run and runs. Thread-safe.
 */
final class CancellationRegistry {
  private static final Logger log = LoggerFactory.getLogger(CancellationRegistry.class);

  /** How many cancelled jobs are remembered (the oldest are forgotten first): 100 000. */
  static final int REMEMBERED = 100_000;

  /** One running attempt: its thread, its run, and whether it has been cancelled. */
  static final class Running {
    private final Thread thread;
    private final long run;
    private final AtomicBoolean cancelled;

    private Running(Thread thread, long run, boolean cancelled) {
      this.thread = thread;
      this.run = run;
      this.cancelled = new AtomicBoolean(cancelled);
    }

    /** Whether this attempt is cancelled (before it started, or while running). */
    boolean isCancelled() {
      return cancelled.get();
    }
  }

  private final Map<UUID, Running> running = new ConcurrentHashMap<>();
  private final Map<UUID, Long> cancelled =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, Long> eldest) {
              return size() > REMEMBERED;
            }
          });

  /**
   * Registers the attempt of {@code item} running on the current thread; it starts cancelled when
   * its job was cancelled for this run (or a later one) already.
   */
  Running register(WorkItem item) {
    Long cancelledRun = cancelled.get(item.id());
    Running r =
        new Running(
            Thread.currentThread(), item.run(), cancelledRun != null && item.run() <= cancelledRun);
    running.put(item.id(), r);
    return r;
  }

  /** The attempt ended. */
  void unregister(UUID jobId, Running r) {
    running.remove(jobId, r);
  }

  /** Whether {@code r} is still the registered attempt of its job (it has not ended). */
  boolean isRunning(UUID jobId, Running r) {
    return running.get(jobId) == r;
  }

  /** Cancels runs of jobs: interrupts the running attempts of those runs (or earlier ones). */
  void cancel(Map<UUID, Long> runsById) {
    for (Map.Entry<UUID, Long> e : runsById.entrySet()) {
      UUID id = e.getKey();
      cancelled.merge(id, e.getValue(), Math::max);
      Running r = running.get(id);
      if (r != null && r.run <= e.getValue() && r.cancelled.compareAndSet(false, true)) {
        log.info("Interrupting cancelled job {}", id);
        r.thread.interrupt();
      }
    }
  }
}
