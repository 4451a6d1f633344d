package dev.ferry.worker.poll;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions a worker owns and what it owes on them: an {@link OffsetTracker} per assigned
 * partition, new for each assignment (so completions of jobs from an earlier assignment, an older
 * epoch, are recognised and dropped); the started jobs whose outcome is not acknowledged yet; and
 * the offset commits, only ever up to the highest contiguous acknowledged offset.
 *
 * <p>As the consumer's rebalance listener it makes a tracker per assigned partition and, on
 * revocation, gives in-flight jobs of the revoked partitions a grace period, commits what they
 * finished and forgets them (the loop drops their buffered records).
 *
 * <p>Poll thread only (the consumer calls the listener from inside {@code poll}); the counters are
 * safe to read from any thread.
 */
final class Partitions implements ConsumerRebalanceListener {
  private static final Logger log = LoggerFactory.getLogger(Partitions.class);

  /** How often finished offsets are committed asynchronously: every 200 ms at most. */
  static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);

  /** How long an assignment waits for its partitions' end offsets: 5 s. */
  static final Duration END_OFFSETS_TIMEOUT = Duration.ofSeconds(5);

  /** What a rebalance needs from the poll loop. */
  interface Loop {
    /** Applies every event queued so far. */
    void handleEvents();

    /** Waits up to {@code nanos} for one event and applies it, if one came. */
    void handleNextEvent(long nanos) throws InterruptedException;

    /** Drops the buffered, not started records of these partitions. */
    void dropBuffered(Collection<TopicPartition> partitions);

    /** Whether fetching is paused now (new partitions then start paused). */
    boolean paused();
  }

  private final Consumer<String, byte[]> consumer;
  private final boolean readEndOffsets;
  private final long revokeGraceMs;
  private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
  private final Set<Ticket> awaitingOutcome = new HashSet<>();
  private final AtomicInteger revocations = new AtomicInteger();
  private final AtomicInteger assignments = new AtomicInteger();
  private volatile int assignedCount;
  private long lastCommitNanos;
  private Loop loop;

  /**
   * @param readEndOffsets whether to read the end offsets of assigned partitions (for the
   *     redelivery check: records produced after the assignment cannot be redeliveries)
   * @param revokeGrace how long a revocation waits for in-flight jobs of revoked partitions
   */
  Partitions(Consumer<String, byte[]> consumer, boolean readEndOffsets, Duration revokeGrace) {
    this.consumer = consumer;
    this.readEndOffsets = readEndOffsets;
    this.revokeGraceMs = revokeGrace.toMillis();
  }

  /** Connects the loop; before the consumer subscribes. */
  void bind(Loop loop) {
    this.loop = loop;
  }

  /** The tracker of a partition owned now, or null. */
  OffsetTracker tracker(TopicPartition tp) {
    return trackers.get(tp);
  }

  /** A job was started or deferred: its offset waits for its outcome. */
  void awaitOutcome(Ticket ticket) {
    awaitingOutcome.add(ticket);
  }

  /**
   * A job's outcome is acknowledged: its offset is finished, unless its partition was revoked (or
   * reassigned) meanwhile.
   */
  void outcomeStored(Ticket ticket) {
    awaitingOutcome.remove(ticket);
    if (trackers.get(ticket.partition()) == ticket.tracker()) {
      ticket.tracker().finished(ticket.offset());
    }
  }

  /** A record that will not run (malformed or stale) is finished, if its partition is owned. */
  void skipped(TopicPartition tp, long offset) {
    OffsetTracker t = trackers.get(tp);
    if (t != null) {
      t.finished(offset);
    }
  }

  /** Started or deferred jobs whose outcome is not acknowledged yet. */
  int awaitingOutcome() {
    return awaitingOutcome.size();
  }

  /** How many partitions this worker owns now. */
  int assigned() {
    return assignedCount;
  }

  /** How many times partitions were revoked or lost. */
  int revocations() {
    return revocations.get();
  }

  /** How many times partitions were assigned. */
  int assignments() {
    return assignments.get();
  }

  /**
   * Commits finished offsets asynchronously, at most every {@link #COMMIT_INTERVAL}; the callback
   * runs on the poll thread, inside a later poll or commit.
   */
  void commitAsync() {
    long now = System.nanoTime();
    if (now - lastCommitNanos < COMMIT_INTERVAL.toNanos()) {
      return;
    }
    lastCommitNanos = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    // The trackers as they are now: a completion for a partition reassigned meanwhile marks
    // the old tracker, which is no longer used.
    Map<TopicPartition, OffsetTracker> owners = new HashMap<>();
    for (Map.Entry<TopicPartition, OffsetTracker> e : trackers.entrySet()) {
      long c = e.getValue().committable();
      if (c >= 0) {
        offsets.put(e.getKey(), new OffsetAndMetadata(c));
        owners.put(e.getKey(), e.getValue());
        e.getValue().commitSent(c);
      }
    }
    if (offsets.isEmpty()) {
      return;
    }
    consumer.commitAsync(
        offsets,
        (o, e) -> {
          if (e == null) {
            owners.forEach((tp, t) -> t.committed(offsets.get(tp).offset()));
          } else {
            owners.values().forEach(OffsetTracker::commitFailed);
            log.debug("Async offset commit failed (will retry): {}", e.toString());
          }
        });
  }

  /** Commits every owned partition synchronously (the loop's end). */
  void commitFinal() {
    lastCommitNanos = System.nanoTime();
    commitSync(trackers.keySet(), "Final offset commit");
  }

  /**
   * Commits what the broker has not confirmed for {@code parts}, synchronously; marks the trackers
   * committed only when that succeeded.
   */
  private void commitSync(Collection<TopicPartition> parts, String what) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    Map<TopicPartition, OffsetTracker> owners = new HashMap<>();
    for (TopicPartition tp : parts) {
      OffsetTracker t = trackers.get(tp);
      long c = t == null ? -1 : t.uncommitted();
      if (c >= 0) {
        offsets.put(tp, new OffsetAndMetadata(c));
        owners.put(tp, t);
      }
    }
    if (offsets.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(offsets);
      owners.forEach((tp, t) -> t.committed(offsets.get(tp).offset()));
    } catch (RuntimeException e) {
      owners.values().forEach(OffsetTracker::commitFailed);
      log.warn("{} failed: {}", what, e.toString());
    }
  }

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    // Records already on a partition when it arrives may have been started by its previous
    // owner; those produced later cannot have been. Knowing the end offsets keeps the
    // redelivery check off the steady stream of new work.
    Map<TopicPartition, Long> ends = Map.of();
    if (readEndOffsets && !partitions.isEmpty()) {
      try {
        ends = consumer.endOffsets(partitions, END_OFFSETS_TIMEOUT);
      } catch (RuntimeException e) {
        log.warn(
            "Could not read end offsets of {} ({}); checking all their records for" + " redelivery",
            partitions,
            e.toString());
      }
    }
    for (TopicPartition tp : partitions) {
      trackers.put(tp, new OffsetTracker(ends.getOrDefault(tp, Long.MAX_VALUE)));
    }
    assignedCount = trackers.size();
    if (partitions.isEmpty()) {
      return;
    }
    assignments.incrementAndGet();
    if (loop.paused()) {
      consumer.pause(partitions);
    }
    log.info("Assigned {}", partitions);
  }

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    if (!partitions.isEmpty()) {
      revocations.incrementAndGet();
    }
    loop.handleEvents();
    awaitInFlight(partitions);
    commitSync(partitions, "Commit on revocation");
    forget(partitions);
    if (!partitions.isEmpty()) {
      log.info("Revoked {}", partitions);
    }
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    revocations.incrementAndGet();
    forget(partitions);
    log.warn("Lost {}", partitions);
  }

  /**
   * Gives in-flight jobs of revoked partitions up to {@code worker.revoke.grace.ms} to finish, so
   * that their offsets are committed here and the new owner does not run them again. Jobs still
   * running after that keep running; their records go to the new owner uncommitted, which skips
   * them while they are RUNNING here (the redelivery check), and their outcome is applied once
   * whichever run reports first.
   */
  private void awaitInFlight(Collection<TopicPartition> partitions) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(revokeGraceMs);
    int waiting = runningOn(partitions);
    if (waiting == 0 || revokeGraceMs <= 0) {
      return;
    }
    log.info(
        "Rebalance: waiting up to {} ms for {} in-flight jobs of revoked partitions",
        revokeGraceMs,
        waiting);
    try {
      while (runningOn(partitions) > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          log.info(
              "Rebalance: {} jobs still running; their records go to the new owner",
              runningOn(partitions));
          return;
        }
        loop.handleNextEvent(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int runningOn(Collection<TopicPartition> partitions) {
    int n = 0;
    for (Ticket t : awaitingOutcome) {
      if (partitions.contains(t.partition())) {
        n++;
      }
    }
    return n;
  }

  private void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      trackers.remove(tp);
    }
    assignedCount = trackers.size();
    loop.dropBuffered(partitions);
  }
}
