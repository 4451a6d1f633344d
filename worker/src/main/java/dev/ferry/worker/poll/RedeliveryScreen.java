package dev.ferry.worker.poll;

import dev.ferry.core.model.WorkItem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Screens fetched records that may be redeliveries: records that were already on a partition when
 * it was assigned to this worker, fetched within {@code worker.redelivery.check.ms} of the
 * assignment, may have been started by the partition's previous owner. They are held (marked {@link
 * PendingRecord#checking}) while the {@link RedeliveryCheck} asks the database, off the poll
 * thread, one query per poll batch; the verdict comes back as a {@link LoopEvent.Checked}. Records
 * whose job has moved on are stale and skipped; if the check fails, all of them run (a stale
 * outcome changes nothing). Poll thread only, except {@link #staleSkipped()}.
 */
final class RedeliveryScreen {
  private static final Logger log = LoggerFactory.getLogger(RedeliveryScreen.class);

  private final RedeliveryCheck check;
  private final long windowNanos;
  private final Consumer<LoopEvent> verdicts;
  private final AtomicLong staleSkipped = new AtomicLong();

  /** Checks asked and not answered yet. */
  private int pending;

  /**
   * @param check the database check, or null: nothing is screened
   * @param window how long after an assignment its records are screened
   * @param verdicts where verdicts go (the poll loop's queue); thread-safe
   */
  RedeliveryScreen(RedeliveryCheck check, Duration window, Consumer<LoopEvent> verdicts) {
    this.check = check;
    this.windowNanos = window.toNanos();
    this.verdicts = verdicts;
  }

  /** Whether records are screened at all (end offsets are then worth reading on assignment). */
  boolean enabled() {
    return check != null;
  }

  /**
   * Marks {@code p} as held for the check if it may be a redelivery.
   *
   * @param nowNanos when it was fetched ({@link System#nanoTime()})
   * @return whether it is held
   */
  boolean screen(PendingRecord p, OffsetTracker tracker, long nowNanos) {
    if (check == null
        || p.item() == null
        || !tracker.mayBeRedelivered(p.offset())
        || nowNanos - tracker.assignedAtNanos() >= windowNanos) {
      return false;
    }
    p.checking = true;
    p.suspect = true;
    return true;
  }

  /** Asks the database about held records, off the poll thread. */
  void ask(List<PendingRecord> batch) {
    pending++;
    List<WorkItem> items = batch.stream().map(PendingRecord::item).toList();
    Thread.ofVirtual()
        .name("ferry-redelivery-check")
        .start(
            () -> {
              try {
                verdicts.accept(new LoopEvent.Checked(batch, check.runnable(items), null));
              } catch (Exception e) {
                verdicts.accept(new LoopEvent.Checked(batch, null, e));
              }
            });
  }

  /** Whether a check is out (fetching then waits for it). */
  boolean asking() {
    return pending > 0;
  }

  /** Releases the records of a verdict; returns those found stale, which must not run. */
  List<PendingRecord> verdict(LoopEvent.Checked c) {
    pending--;
    if (c.error() != null) {
      log.warn(
          "Could not check {} possibly redelivered work items against the database ({});"
              + " running them (a stale outcome changes nothing)",
          c.batch().size(),
          c.error().toString());
    }
    List<PendingRecord> stale = new ArrayList<>();
    for (PendingRecord p : c.batch()) {
      if (!p.checking) {
        continue;
      }
      p.checking = false;
      if (c.runnable() != null && !c.runnable().contains(RedeliveryCheck.key(p.item()))) {
        stale.add(p);
      }
    }
    return stale;
  }

  /** Counts stale records that were skipped (still buffered when their verdict came). */
  void skipped(int n) {
    if (n > 0) {
      staleSkipped.addAndGet(n);
      log.info(
          "Skipped {} redelivered work items whose jobs already moved on (finished,"
              + " retried, or running elsewhere)",
          n);
    }
  }

  /** Possibly redelivered records skipped because their job had moved on. */
  long staleSkipped() {
    return staleSkipped.get();
  }
}
