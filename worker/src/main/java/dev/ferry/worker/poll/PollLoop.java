package dev.ferry.worker.poll;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.WorkItem;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.exec.Completion;
import dev.ferry.worker.exec.JobRunner;
import dev.ferry.worker.metrics.WorkerMetrics;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
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
  private static final class Pending {
    final ConsumerRecord<String, byte[]> record;
    final WorkItem item;
    final String dependency;
    /** Waiting for the redelivery check: may not start yet. */
    boolean checking;
    /** Possibly a redelivery: its start notice must be acknowledged before the handler runs. */
    boolean suspect;

    Pending(ConsumerRecord<String, byte[]> record, WorkItem item, String dependency) {
      this.record = record;
      this.item = item;
      this.dependency = dependency;
    }

    ConsumerRecord<String, byte[]> record() {
      return record;
    }

    WorkItem item() {
      return item;
    }

    String dependency() {
      return dependency;
    }
  }

  private final KafkaConsumer<String, byte[]> consumer;
  private final String topic;
  private final JobRunner runner;
  private final int concurrency;
  private final ArrayDeque<Pending> buffer = new ArrayDeque<>();
  /** Jobs running per dependency (poll thread only): the per-worker bulkhead. */
  private final Map<String, Integer> inFlightByDependency = new ConcurrentHashMap<>();
  private final WorkerMetrics metrics;
  private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
  private final LinkedBlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
  private final Set<Ticket> awaitingOutcome = new HashSet<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final AtomicInteger revocations = new AtomicInteger();
  private final AtomicInteger assignments = new AtomicInteger();
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** Why the loop ended, if it failed (not drained): the process must exit. */
  private volatile Throwable failure;
  /** Finished jobs whose outcome Kafka has not acknowledged yet (for gauges). */
  private volatile int unacknowledged;
  private volatile boolean draining;
  private volatile long drainDeadlineNanos;
  private volatile boolean paused;
  /** Redelivery checks asked and not answered yet. Poll thread only. */
  private int pendingChecks;
  /** The job running alone (it crashed a worker before), or null. Poll thread only. */
  private Ticket isolated;
  private long lastCommitNanos;

  private final int bufferLimit;
  private final RedeliveryCheck redeliveryCheck;
  private final long checkWindowNanos;
  private final long revokeGraceMs;
  private final java.util.concurrent.atomic.AtomicLong staleSkipped =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile long lastPollNanos = System.nanoTime();
  private volatile long lag = -1;
  private long lagSampledNanos;

  /**
   * @param maxPollRecords the consumer's {@code max.poll.records}; the buffer of fetched, not
   *     yet started records is kept below twice that
   */
  public PollLoop(
      KafkaConsumer<String, byte[]> consumer, String topic, JobRunner runner, int concurrency,
      int maxPollRecords) {
    this(consumer, topic, runner, concurrency, maxPollRecords, null, Duration.ZERO,
        Duration.ZERO, WorkerMetrics.none());
  }

  /**
   * @param redeliveryCheck checks records fetched within {@code checkWindow} of their
   *     partition's assignment (null: no check)
   * @param revokeGrace how long a rebalance waits for in-flight jobs of revoked partitions
   */
  public PollLoop(
      KafkaConsumer<String, byte[]> consumer, String topic, JobRunner runner, int concurrency,
      int maxPollRecords, RedeliveryCheck redeliveryCheck, Duration checkWindow,
      Duration revokeGrace, WorkerMetrics metrics) {
    this.metrics = metrics;
    this.redeliveryCheck = redeliveryCheck;
    this.checkWindowNanos = checkWindow.toNanos();
    this.revokeGraceMs = revokeGrace.toMillis();
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

  /** Possibly redelivered records skipped because their job had moved on. */
  public long staleSkipped() {
    return staleSkipped.get();
  }

  /** Records behind the end of the assigned partitions (sampled each second), -1 if unknown. */
  public long lag() {
    return lag;
  }

  /** Whether the poll thread polled within the last {@code maxSilence}. */
  public boolean polling(Duration maxSilence) {
    return stopped.getCount() > 0 && System.nanoTime() - lastPollNanos < maxSilence.toNanos();
  }

  /** Jobs of a dependency running on this worker now. */
  public int inFlight(String dependency) {
    return inFlightByDependency.getOrDefault(dependency, 0);
  }

  /** Seconds since the poll thread last polled. */
  public double sinceLastPollSeconds() {
    return (System.nanoTime() - lastPollNanos) / 1e9;
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
        long now = System.nanoTime();
        metrics.pollInterval(now - lastPollNanos);
        lastPollNanos = now;
        List<Pending> toCheck = new java.util.ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : records) {
          OffsetTracker t = trackers.get(new TopicPartition(rec.topic(), rec.partition()));
          if (t == null) {
            continue;
          }
          t.received(rec.offset());
          Pending p = decode(rec);
          if (redeliveryCheck != null && p.item() != null && t.mayBeRedelivered(rec.offset())
              && now - t.assignedAtNanos() < checkWindowNanos) {
            p.checking = true;
            p.suspect = true;
            toCheck.add(p);
          }
          buffer.add(p);
        }
        if (!toCheck.isEmpty()) {
          check(toCheck);
        }
        bufferedCount = buffer.size();
        if (now - lagSampledNanos > 1_000_000_000L) {
          lagSampledNanos = now;
          lag = dev.ferry.core.kafka.KafkaClients.lag(consumer);
        }
      }
      handleCompletions();
      commit(true);
    } catch (Throwable t) {
      failure = t;
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

  /** Finished jobs whose outcome is not acknowledged yet. Poll thread only. */
  private int unacked() {
    return Math.max(0, awaitingOutcome.size() - inFlight.get());
  }

  /** Finished jobs whose outcome Kafka has not acknowledged yet (sampled each round). */
  public int unacknowledged() {
    return unacknowledged;
  }

  /** Why the loop ended if it failed (it then stopped for good), else null. */
  public Throwable failure() {
    return failure;
  }

  /** Whether the loop's thread is still looping (not ended by a drain or a failure). */
  public boolean running() {
    return stopped.getCount() > 0;
  }

  /** Blocks until the loop has ended (drained or failed). */
  public void awaitEnd() throws InterruptedException {
    stopped.await();
  }

  /** Asks the database about possibly redelivered records, off the poll thread. */
  private void check(List<Pending> batch) {
    pendingChecks++;
    List<WorkItem> items = batch.stream().map(Pending::item).toList();
    Thread.ofVirtual().name("ferry-redelivery-check").start(() -> {
      try {
        completions.add(new Completion.Checked(batch, redeliveryCheck.runnable(items), null));
      } catch (Exception e) {
        completions.add(new Completion.Checked(batch, null, e));
      }
    });
  }

  private Pending decode(ConsumerRecord<String, byte[]> rec) {
    try {
      WorkItem item = WireCodec.decodeWorkItem(rec.value())
          .withTraceparent(TraceContext.fromHeaders(rec.headers()));
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
    if (isolated != null) {
      return; // a job that crashed a worker before runs alone
    }
    for (Iterator<Pending> it = buffer.iterator();
        it.hasNext() && inFlight.get() < concurrency && unacked() < bufferLimit; ) {
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
      if (p.checking) {
        continue;
      }
      if (p.item().crashes() > 0) {
        // This job was running when a worker died. Run it alone: when everything started
        // before it has finished and reported, start it, and start nothing else until it has
        // reported. If it kills this JVM too, the crash is pinned on it alone.
        if (inFlight.get() > 0 || !awaitingOutcome.isEmpty()) {
          break;
        }
        it.remove();
        Ticket ticket = new Ticket(tp, tracker, rec.offset(), null);
        awaitingOutcome.add(ticket);
        isolated = ticket;
        inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(1, Math::max);
        log.info("Running job {} alone: {} worker(s) died while running it before",
            p.item().id(), p.item().crashes());
        runner.start(p.item(), ticket, completions::add, true);
        break;
      }
      String dep = p.dependency();
      int limit = runner.bulkhead(dep);
      if (limit > 0 && inFlightByDependency.getOrDefault(dep, 0) >= limit) {
        continue;
      }
      it.remove();
      if (dep != null) {
        if (inFlightByDependency.merge(dep, 1, Integer::sum) == 1) {
          metrics.dependencySeen(dep);
        }
      }
      Ticket ticket = new Ticket(tp, tracker, rec.offset(), dep);
      awaitingOutcome.add(ticket);
      int n = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(n, Math::max);
      runner.start(p.item(), ticket, completions::add, p.suspect);
    }
    if (inFlight.get() < concurrency && buffer.size() >= bufferLimit) {
      // Slots are free but the buffer is full of jobs waiting for their bulkhead: hand them
      // back for a moment (deferred, no attempt used) rather than block their partitions.
      for (Iterator<Pending> it = buffer.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        int limit = runner.bulkhead(p.dependency());
        if (p.item() == null || p.checking || limit == 0
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
      handle(c);
    }
  }

  private void handle(Completion c) {
      switch (c) {
        case Completion.Checked checked -> checked(checked);
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
          if (t == isolated) {
            isolated = null;
          }
          if (trackers.get(t.partition()) == t.tracker()) {
            t.tracker().finished(t.offset());
          }
        }
      }
  }

  @SuppressWarnings("unchecked")
  private void checked(Completion.Checked c) {
    pendingChecks--;
    if (c.error() != null) {
      log.warn("Could not check {} possibly redelivered work items against the database ({});"
          + " running them (a stale outcome changes nothing)", ((List<Pending>) c.batch()).size(),
          c.error().toString());
    }
    int stale = 0;
    for (Pending p : (List<Pending>) c.batch()) {
      if (!p.checking) {
        continue;
      }
      p.checking = false;
      if (c.runnable() == null || c.runnable().contains(RedeliveryCheck.key(p.item()))) {
        continue;
      }
      if (buffer.remove(p)) {
        stale++;
        TopicPartition tp = new TopicPartition(p.record().topic(), p.record().partition());
        OffsetTracker t = trackers.get(tp);
        if (t != null) {
          t.finished(p.record().offset());
        }
      }
    }
    if (stale > 0) {
      staleSkipped.addAndGet(stale);
      log.info("Skipped {} redelivered work items whose jobs already moved on (finished,"
          + " retried, or running elsewhere)", stale);
    }
    bufferedCount = buffer.size();
  }

  private void applyBackpressure() {
    Set<TopicPartition> assigned = consumer.assignment();
    // Fetch more only while there is a free slot and the buffer is small: records left in the
    // buffer are waiting for their dependency's bulkhead, and others may be runnable behind
    // them. The buffer never exceeds two poll batches.
    // Also hold fetching while the database is asked about possibly redelivered records.
    // Outcomes Kafka has not acknowledged count against the buffer: while results cannot be
    // produced, the worker stops taking work instead of piling up outcomes in memory.
    int unacked = unacked();
    unacknowledged = unacked;
    boolean full = draining || inFlight.get() >= concurrency
        || buffer.size() + unacked >= bufferLimit || pendingChecks > 0;
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
    if (sync) {
      commitSync(trackers.keySet(), "Final offset commit");
      return;
    }
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
    // The callback runs on this (the poll) thread, inside a later poll or commit.
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

  /**
   * Commits what the broker has not confirmed for {@code parts}, synchronously; marks the
   * trackers committed only when that succeeded.
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
      // Records already on a partition when it arrives may have been started by its previous
      // owner; those produced later cannot have been. Knowing the end offsets keeps the
      // redelivery check off the steady stream of new work.
      Map<TopicPartition, Long> ends = Map.of();
      if (redeliveryCheck != null && !partitions.isEmpty()) {
        try {
          ends = consumer.endOffsets(partitions, Duration.ofSeconds(5));
        } catch (RuntimeException e) {
          log.warn("Could not read end offsets of {} ({}); checking all their records for"
              + " redelivery", partitions, e.toString());
        }
      }
      for (TopicPartition tp : partitions) {
        trackers.put(tp, new OffsetTracker(ends.getOrDefault(tp, Long.MAX_VALUE)));
      }
      assignedCount = trackers.size();
      if (!partitions.isEmpty()) {
        assignments.incrementAndGet();
      }
      if (paused && !partitions.isEmpty()) {
        consumer.pause(partitions);
      }
      if (!partitions.isEmpty()) {
        log.info("Assigned {}", partitions);
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        revocations.incrementAndGet();
      }
      handleCompletions();
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
     * Gives in-flight jobs of revoked partitions up to {@code worker.revoke.grace.ms} to finish,
     * so that their offsets are committed here and the new owner does not run them again. Jobs
     * still running after that keep running; their records go to the new owner uncommitted,
     * which skips them while they are RUNNING here (the redelivery check), and their outcome is
     * applied once whichever run reports first.
     */
    private void awaitInFlight(Collection<TopicPartition> partitions) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(revokeGraceMs);
      int waiting = runningOn(partitions);
      if (waiting == 0 || revokeGraceMs <= 0) {
        return;
      }
      log.info("Rebalance: waiting up to {} ms for {} in-flight jobs of revoked partitions",
          revokeGraceMs, waiting);
      try {
        while (runningOn(partitions) > 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            log.info("Rebalance: {} jobs still running; their records go to the new owner",
                runningOn(partitions));
            return;
          }
          Completion c = completions.poll(left, TimeUnit.NANOSECONDS);
          if (c != null) {
            handle(c);
          }
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
