package dev.ferry.worker.poll;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.exec.Completion;
import dev.ferry.worker.exec.JobRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's poll loop. One thread owns the consumer and only polls, pauses, resumes and
 * commits; handlers run elsewhere ({@link JobRunner}) and talk back through a queue.
 *
 * <ul>
 *   <li><b>Bounded</b>: at most {@code concurrency} handler threads alive; fetched records
 *       wait in a buffer of at most two poll batches, and every partition is paused while all
 *       slots are busy or the buffer is full, so memory is bounded whatever the backlog.
 *       Polling continues while paused, so the consumer stays in its group however long
 *       handlers block.
 *   <li><b>Commits</b> only up to the highest contiguous offset whose outcome is acknowledged.
 *   <li><b>Rebalances</b>: on revocation, finished offsets are committed and buffered records
 *       dropped; completions of in-flight jobs from a revoked partition belong to an old
 *       tracker and are ignored.
 *   <li><b>Drain</b>: {@link #drain} stops starting jobs, waits for in-flight ones up to a
 *       timeout, commits and leaves the group.
 * </ul>
 */
public final class PollLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

  /** A started job: where its record came from, and its dependency (for the bulkhead). */
  private record Ticket(TopicPartition partition, OffsetTracker tracker, long offset, String dependency) {}

  /** A fetched record, decoded once (item null when malformed). */
  private record Pending(ConsumerRecord<String, byte[]> record, WorkItem item, String dependency) {}

  private final KafkaConsumer<String, byte[]> consumer;
  private final String topic;
  private final JobRunner runner;
  private final int concurrency;
  private final ArrayDeque<Pending> buffer = new ArrayDeque<>();
  /** Jobs running per dependency (poll thread only): the per-worker bulkhead. */
  private final Map<String, Integer> inFlightByDependency = new HashMap<>();
  private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
  private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
  private final Set<Ticket> awaitingOutcome = new HashSet<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final AtomicInteger revocations = new AtomicInteger();
  private final AtomicInteger assignments = new AtomicInteger();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean draining;
  private volatile long drainDeadlineNanos;
  private volatile boolean paused;
  private long lastCommitNanos;

  private final int bufferLimit;

  /**
   * @param maxPollRecords the consumer's {@code max.poll.records}; the buffer of fetched, not
   *     yet started records is kept below twice that
   */
  public PollLoop(
      KafkaConsumer<String, byte[]> consumer, String topic, JobRunner runner, int concurrency,
      int maxPollRecords) {
    this.bufferLimit = 2 * maxPollRecords;
    this.consumer = consumer;
    this.topic = topic;
    this.runner = runner;
    this.concurrency = concurrency;
  }

  /** Jobs whose handler thread is alive right now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** The most handler threads ever alive at once. */
  public int maxInFlight() {
    return maxInFlight.get();
  }

  /** Records fetched but not started (bounded by one poll batch). */
  public int buffered() {
    return bufferedCount;
  }

  private volatile int bufferedCount;

  /** How many times partitions were revoked or lost (rebalances that took work away). */
  public int revocations() {
    return revocations.get();
  }

  /** How many partitions this worker owns right now. */
  public int assignedPartitions() {
    return assignedCount;
  }

  private volatile int assignedCount;

  /** How many times partitions were assigned. */
  public int assignments() {
    return assignments.get();
  }

  /** Whether the consumer is currently paused (backpressure). */
  public boolean isPaused() {
    return paused;
  }

  @Override
  public void run() {
    consumer.subscribe(List.of(topic), new Rebalance());
    try {
      while (true) {
        handleCompletions();
        if (draining) {
          if (inFlight.get() == 0 && awaitingOutcome.isEmpty()) {
            break;
          }
          if (System.nanoTime() > drainDeadlineNanos) {
            log.warn("Drain timeout: {} jobs still running, {} outcomes unacknowledged;"
                + " their records will be redelivered", inFlight.get(), awaitingOutcome.size());
            break;
          }
        } else {
          startBuffered();
        }
        applyBackpressure();
        commit(false);
        long waitMs = !completions.isEmpty() ? 0 : (inFlight.get() > 0 || draining ? 5 : 100);
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(waitMs));
        } catch (WakeupException e) {
          continue;
        }
        for (ConsumerRecord<String, byte[]> rec : records) {
          OffsetTracker t = trackers.get(new TopicPartition(rec.topic(), rec.partition()));
          if (t == null) {
            continue;
          }
          t.received(rec.offset());
          buffer.add(decode(rec));
        }
        bufferedCount = buffer.size();
      }
      handleCompletions();
      commit(true);
    } catch (Throwable t) {
      log.error("Worker poll loop failed; the consumer leaves its group and its records will be"
          + " redelivered", t);
    } finally {
      try {
        consumer.close(Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        log.warn("Closing the work consumer failed", e);
      }
      stopped.countDown();
    }
  }

  private Pending decode(ConsumerRecord<String, byte[]> rec) {
    try {
      WorkItem item = WireCodec.decodeWorkItem(rec.value());
      return new Pending(rec, item, runner.dependencyOf(item));
    } catch (IOException | RuntimeException e) {
      log.error("Skipping malformed work item at {}-{}@{}: {}", rec.topic(), rec.partition(),
          rec.offset(), e.getMessage());
      return new Pending(rec, null, null);
    }
  }

  /**
   * Starts buffered jobs while there is room: globally ({@code concurrency}) and for each
   * dependency (its bulkhead). A job whose dependency is at its limit waits in the buffer while
   * others behind it start; the buffer stays bounded because fetching is paused meanwhile.
   */
  private void startBuffered() {
    for (Iterator<Pending> it = buffer.iterator();
        it.hasNext() && inFlight.get() < concurrency; ) {
      Pending p = it.next();
      ConsumerRecord<String, byte[]> rec = p.record();
      TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
      OffsetTracker tracker = trackers.get(tp);
      if (tracker == null) {
        it.remove();
        continue;
      }
      if (p.item() == null) {
        tracker.finished(rec.offset());
        it.remove();
        continue;
      }
      String dep = p.dependency();
      int limit = runner.bulkhead(dep);
      if (limit > 0 && inFlightByDependency.getOrDefault(dep, 0) >= limit) {
        continue;
      }
      it.remove();
      if (dep != null) {
        inFlightByDependency.merge(dep, 1, Integer::sum);
      }
      Ticket ticket = new Ticket(tp, tracker, rec.offset(), dep);
      awaitingOutcome.add(ticket);
      int n = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(n, Math::max);
      runner.start(p.item(), ticket, completions::add);
    }
    if (inFlight.get() < concurrency && buffer.size() >= bufferLimit) {
      // Slots are free but the buffer is full of jobs waiting for their bulkhead: hand them
      // back for a moment (deferred, no attempt used) rather than block their partitions.
      for (Iterator<Pending> it = buffer.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        int limit = runner.bulkhead(p.dependency());
        if (p.item() == null || limit == 0
            || inFlightByDependency.getOrDefault(p.dependency(), 0) < limit) {
          continue;
        }
        OffsetTracker tracker = trackers.get(new TopicPartition(p.record().topic(), p.record().partition()));
        it.remove();
        if (tracker == null) {
          continue;
        }
        Ticket ticket = new Ticket(new TopicPartition(p.record().topic(), p.record().partition()),
            tracker, p.record().offset(), null);
        awaitingOutcome.add(ticket);
        runner.defer(p.item(), ticket, completions::add,
            "bulkhead of " + p.dependency() + " is full on this worker");
      }
    }
    bufferedCount = buffer.size();
  }

  private void handleCompletions() {
    Completion c;
    while ((c = completions.poll()) != null) {
      switch (c) {
        case Completion.SlotFreed f -> {
          inFlight.decrementAndGet();
          String dep = ((Ticket) f.ticket()).dependency();
          if (dep != null) {
            inFlightByDependency.computeIfPresent(dep, (k, v) -> v <= 1 ? null : v - 1);
          }
        }
        case Completion.OutcomeStored s -> {
          Ticket t = (Ticket) s.ticket();
          awaitingOutcome.remove(t);
          if (trackers.get(t.partition()) == t.tracker()) {
            t.tracker().finished(t.offset());
          }
        }
      }
    }
  }

  private void applyBackpressure() {
    Set<TopicPartition> assigned = consumer.assignment();
    // Fetch more only while there is a free slot and the buffer is small: records left in the
    // buffer are waiting for their dependency's bulkhead, and others may be runnable behind
    // them. The buffer never exceeds two poll batches.
    boolean full = draining || inFlight.get() >= concurrency || buffer.size() >= bufferLimit;
    if (full && !assigned.isEmpty()) {
      consumer.pause(assigned);
      paused = true;
    } else if (!full && paused) {
      consumer.resume(consumer.paused());
      paused = false;
    }
  }

  private void commit(boolean sync) {
    long now = System.nanoTime();
    if (!sync && now - lastCommitNanos < TimeUnit.MILLISECONDS.toNanos(200)) {
      return;
    }
    lastCommitNanos = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = committable(trackers.keySet());
    if (offsets.isEmpty()) {
      return;
    }
    if (sync) {
      try {
        consumer.commitSync(offsets);
      } catch (RuntimeException e) {
        log.warn("Final offset commit failed: {}", e.toString());
      }
    } else {
      consumer.commitAsync(
          offsets,
          (o, e) -> {
            if (e != null) {
              log.debug("Async offset commit failed (will retry): {}", e.toString());
            }
          });
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> committable(Collection<TopicPartition> parts) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : parts) {
      OffsetTracker t = trackers.get(tp);
      if (t == null) {
        continue;
      }
      long c = t.committable();
      if (c >= 0) {
        offsets.put(tp, new OffsetAndMetadata(c));
        t.committed(c);
      }
    }
    return offsets;
  }

  /**
   * Stops starting new jobs and lets the loop finish: in-flight jobs get until {@code timeout}
   * to end, then offsets are committed and the consumer leaves the group. Blocks until done.
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    drainDeadlineNanos = System.nanoTime() + timeout.toNanos();
    draining = true;
    consumer.wakeup();
    return stopped.await(timeout.toMillis() + 15_000, TimeUnit.MILLISECONDS);
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        trackers.put(tp, new OffsetTracker());
      }
      assignedCount = trackers.size();
      if (!partitions.isEmpty()) {
        assignments.incrementAndGet();
      }
      if (paused && !partitions.isEmpty()) {
        consumer.pause(partitions);
      }
      log.info("Assigned {}", partitions);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        revocations.incrementAndGet();
      }
      handleCompletions();
      Map<TopicPartition, OffsetAndMetadata> offsets = committable(partitions);
      if (!offsets.isEmpty()) {
        try {
          consumer.commitSync(offsets);
        } catch (RuntimeException e) {
          log.warn("Commit on revocation failed: {}", e.toString());
        }
      }
      forget(partitions);
      log.info("Revoked {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      revocations.incrementAndGet();
      forget(partitions);
      log.warn("Lost {}", partitions);
    }

    private void forget(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        trackers.remove(tp);
      }
      assignedCount = trackers.size();
      for (Iterator<Pending> it = buffer.iterator(); it.hasNext(); ) {
        ConsumerRecord<String, byte[]> r = it.next().record();
        if (partitions.contains(new TopicPartition(r.topic(), r.partition()))) {
          it.remove();
        }
      }
      bufferedCount = buffer.size();
    }
  }
}
