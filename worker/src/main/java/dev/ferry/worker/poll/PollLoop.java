package dev.ferry.worker.poll;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.WorkItem;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.exec.Completion;
import dev.ferry.worker.exec.JobRunner;
import dev.ferry.worker.flow.RateGrants;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's poll loop. One thread owns the consumer and only polls, hands out work, pauses,
 * resumes and commits; handlers run elsewhere ({@link JobRunner}) and talk back through a queue
 * ({@link LoopEvent}). Which job may start is decided by the {@link AdmissionPolicy}; what is owed
 * on each partition, commits and rebalances by {@link Partitions}; which fetched records may be
 * redeliveries, and whether they are stale, by the {@link RedeliveryScreen}.
 *
 * <ul>
 *   <li><b>Bounded</b>: at most {@code concurrency} handler threads alive; fetched records wait in
 *       a buffer of at most {@link #BUFFER_BATCHES} poll batches, and every partition is paused
 *       while all slots are busy or the buffer is full, so memory is bounded whatever the backlog.
 *       Polling continues while paused, so the consumer stays in its group however long handlers
 *       block.
 *   <li><b>Commits</b> only up to the highest contiguous offset whose outcome is acknowledged.
 *   <li><b>Rebalances</b>: on revocation, finished offsets are committed and buffered records
 *       dropped; completions of in-flight jobs from a revoked partition belong to an old tracker
 *       and are ignored.
 *   <li><b>Drain</b>: {@link #drain} stops starting jobs, waits for in-flight ones up to a timeout,
 *       commits and leaves the group.
 *   <li><b>Priorities</b>: work items of priority 1 and 2 come on the urgent topic and wait in a
 *       queue of their own, fetched even while every slot is busy (that queue has its own bound),
 *       so an urgent job starts at the next free slot, however large the backlog on the work topic.
 *       No starvation: while both queues hold startable jobs, at most {@link #URGENT_PER_NORMAL}
 *       urgent jobs start in a row before a normal one (at least a fifth of the starts go to normal
 *       jobs).
 *   <li><b>Rate limits</b>: a job of a dependency with a fleet-wide rate limit starts only with a
 *       start permit ({@link StartPermits}); it waits in the buffer without a slot meanwhile.
 * </ul>
 */
public final class PollLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

  /** The loop's name in {@code ferry.loop.errors} (its thread's name). */
  public static final String LOOP_NAME = "ferry-worker-poll";

  /** The buffer of fetched, not started records is kept below this many poll batches: 2. */
  static final int BUFFER_BATCHES = 2;

  /** Most urgent jobs started in a row while normal ones wait: 4 (see the class comment). */
  static final int URGENT_PER_NORMAL = 4;

  /** How long a poll waits while jobs run or the loop drains: 5 ms. */
  static final Duration POLL_WAIT_BUSY = Duration.ofMillis(5);

  /** How long a poll waits while nothing runs: 100 ms. */
  static final Duration POLL_WAIT_IDLE = Duration.ofMillis(100);

  /** How often the lag is sampled: every second. */
  static final Duration LAG_SAMPLE_INTERVAL = Duration.ofSeconds(1);

  /** How long closing the consumer may take: 10 s. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** How long {@link #drain} waits beyond its timeout for the final commit and close: 15 s. */
  static final Duration DRAIN_SLACK = Duration.ofSeconds(15);

  private final Consumer<String, byte[]> consumer;
  private final String topic;
  private final String urgentTopic;
  private final StartPermits permits;
  private final JobRunner runner;
  private final WorkerMetrics metrics;
  private final AdmissionPolicy admission;
  private final Partitions partitions;
  private final RedeliveryScreen redeliveries;
  private final ArrayDeque<PendingRecord> buffer = new ArrayDeque<>();
  private final ArrayDeque<PendingRecord> urgent = new ArrayDeque<>();

  /** Urgent jobs started since the last normal one. Poll thread only. */
  private int urgentRun;

  /** Whether the urgent topic's partitions are paused. Poll thread only. */
  private boolean urgentPaused;

  private final LinkedBlockingQueue<LoopEvent> events = new LinkedBlockingQueue<>();

  /** Hands a job's completions to this loop's queue (thread-safe, non-blocking). */
  private final java.util.function.Consumer<Completion<Ticket>> completions = this::completed;

  private final CountDownLatch stopped = new CountDownLatch(1);

  /** Why the loop ended, if it failed (not drained): the process must exit. */
  private volatile Throwable failure;

  /** Finished jobs whose outcome Kafka has not acknowledged yet (sampled each round). */
  private volatile int unacknowledged;

  /** Records fetched and not started (sampled for gauges). */
  private volatile int bufferedCount;

  private volatile boolean draining;
  private volatile long drainDeadlineNanos;
  private volatile boolean paused;
  private volatile long lastPollNanos = System.nanoTime();
  private volatile long lag = -1;
  private long lagSampledNanos;

  /**
   * @param maxPollRecords the consumer's {@code max.poll.records}; the buffer of fetched, not yet
   *     started records is kept below {@link #BUFFER_BATCHES} times that
   * @param redeliveryCheck checks records fetched within {@code checkWindow} of their partition's
   *     assignment (null: no check)
   * @param revokeGrace how long a rebalance waits for in-flight jobs of revoked partitions
   */
  public PollLoop(
      Consumer<String, byte[]> consumer,
      String topic,
      JobRunner runner,
      int concurrency,
      int maxPollRecords,
      RedeliveryCheck redeliveryCheck,
      Duration checkWindow,
      Duration revokeGrace,
      WorkerMetrics metrics) {
    this(
        consumer,
        topic,
        null,
        null,
        runner,
        concurrency,
        maxPollRecords,
        redeliveryCheck,
        checkWindow,
        revokeGrace,
        metrics);
  }

  /**
   * @param urgentTopic the topic of urgent work items (priority 1 and 2), or null
   * @param rateGrants the fleet-wide rate limiter, or null: no rate limits
   */
  public PollLoop(
      Consumer<String, byte[]> consumer,
      String topic,
      String urgentTopic,
      RateGrants rateGrants,
      JobRunner runner,
      int concurrency,
      int maxPollRecords,
      RedeliveryCheck redeliveryCheck,
      Duration checkWindow,
      Duration revokeGrace,
      WorkerMetrics metrics) {
    this.consumer = consumer;
    this.topic = topic;
    this.urgentTopic = urgentTopic;
    this.permits =
        new StartPermits(rateGrants, events::add, consumer::wakeup, Duration.ofMillis(50));
    this.runner = runner;
    this.metrics = metrics;
    this.redeliveries = new RedeliveryScreen(redeliveryCheck, checkWindow, events::add);
    this.admission =
        new AdmissionPolicy(concurrency, BUFFER_BATCHES * maxPollRecords, runner::bulkhead);
    this.partitions = new Partitions(consumer, redeliveries.enabled(), revokeGrace);
    this.partitions.bind(new RebalanceHooks());
  }

  @Override
  public void run() {
    consumer.subscribe(
        urgentTopic == null ? List.of(topic) : List.of(urgentTopic, topic), partitions);
    try {
      while (true) {
        handleEvents();
        if (draining) {
          if (admission.inFlight() == 0 && partitions.awaitingOutcome() == 0) {
            break;
          }
          if (System.nanoTime() > drainDeadlineNanos) {
            log.warn(
                "Drain timeout: {} jobs still running, {} outcomes unacknowledged;"
                    + " their records will be redelivered",
                admission.inFlight(),
                partitions.awaitingOutcome());
            break;
          }
        } else if (!admission.isolating()) {
          // While a job that crashed a worker before runs alone, nothing starts or is deferred.
          startBuffered();
          deferWaiting(buffer);
          deferWaiting(urgent);
          bufferedCount = buffer.size() + urgent.size();
        }
        applyBackpressure();
        partitions.commitAsync();
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(pollWait());
        } catch (WakeupException e) {
          continue;
        }
        accept(records);
      }
      handleEvents();
      partitions.commitFinal();
    } catch (Throwable t) {
      failure = t;
      metrics.loopError(LOOP_NAME);
      log.error(
          "Worker poll loop failed; the consumer leaves its group and its records will be"
              + " redelivered",
          t);
    } finally {
      permits.close();
      try {
        consumer.close(CLOSE_TIMEOUT);
      } catch (RuntimeException e) {
        log.warn("Closing the work consumer failed", e);
      }
      stopped.countDown();
    }
  }

  private Duration pollWait() {
    if (!events.isEmpty()) {
      return Duration.ZERO;
    }
    return admission.inFlight() > 0 || draining ? POLL_WAIT_BUSY : POLL_WAIT_IDLE;
  }

  /** Buffers polled records, decoded once; sends possible redeliveries to the check. */
  private void accept(ConsumerRecords<String, byte[]> records) {
    long now = System.nanoTime();
    metrics.pollInterval(now - lastPollNanos);
    lastPollNanos = now;
    List<PendingRecord> toCheck = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> rec : records) {
      OffsetTracker t = partitions.tracker(new TopicPartition(rec.topic(), rec.partition()));
      if (t == null) {
        continue;
      }
      t.received(rec.offset());
      PendingRecord p = decode(rec);
      if (redeliveries.screen(p, t, now)) {
        toCheck.add(p);
      }
      (rec.topic().equals(urgentTopic) ? urgent : buffer).add(p);
    }
    if (!toCheck.isEmpty()) {
      redeliveries.ask(toCheck);
    }
    bufferedCount = buffer.size() + urgent.size();
    if (now - lagSampledNanos > LAG_SAMPLE_INTERVAL.toNanos()) {
      lagSampledNanos = now;
      lag = KafkaClients.lag(consumer);
    }
  }

  private PendingRecord decode(ConsumerRecord<String, byte[]> rec) {
    try {
      WorkItem item =
          WireCodec.decodeWorkItem(rec.value())
              .withTraceparent(TraceContext.fromHeaders(rec.headers()));
      return new PendingRecord(rec, item, runner.dependencyOf(item));
    } catch (IOException | RuntimeException e) {
      log.error(
          "Skipping malformed work item at {}-{}@{}: {}",
          rec.topic(),
          rec.partition(),
          rec.offset(),
          e.getMessage());
      return PendingRecord.malformed(rec);
    }
  }

  /** What one look at a queue did. */
  private enum Pass {
    STARTED,
    NONE,
    STOP
  }

  /**
   * Starts buffered jobs while the admission policy allows: globally and for each dependency,
   * urgent ones first but at most {@link #URGENT_PER_NORMAL} in a row while normal ones wait. A job
   * whose dependency is at its limit, or that waits for a start permit, stays in the buffer while
   * others behind it start; the buffer stays bounded because fetching is paused meanwhile.
   */
  private void startBuffered() {
    while (admission.mayStart(unacked())) {
      boolean normalTurn = urgentRun >= URGENT_PER_NORMAL;
      Pass r = startOne(normalTurn ? buffer : urgent);
      if (r == Pass.NONE) {
        r = startOne(normalTurn ? urgent : buffer);
      }
      if (r != Pass.STARTED) {
        break;
      }
    }
    permits.request();
  }

  /** Starts the first job of {@code queue} that may start now. */
  private Pass startOne(ArrayDeque<PendingRecord> queue) {
    for (Iterator<PendingRecord> it = queue.iterator(); it.hasNext(); ) {
      PendingRecord p = it.next();
      TopicPartition tp = p.partition();
      OffsetTracker tracker = partitions.tracker(tp);
      if (tracker == null) {
        it.remove();
        continue;
      }
      if (p.item() == null) {
        tracker.finished(p.offset());
        it.remove();
        continue;
      }
      if (p.checking) {
        continue;
      }
      AdmissionPolicy.Verdict verdict =
          admission.decide(p.dependency(), p.item().crashes(), partitions.awaitingOutcome());
      switch (verdict) {
        case STOP -> {
          return Pass.STOP;
        }
        case WAIT -> {}
        case START_ALONE -> {
          it.remove();
          Ticket ticket = new Ticket(tp, tracker, p.offset(), null, true);
          partitions.awaitOutcome(ticket);
          admission.startedAlone();
          log.info(
              "Running job {} alone: {} worker(s) died while running it before",
              p.item().id(),
              p.item().crashes());
          runner.start(p.item(), ticket, completions, true);
          return Pass.STOP;
        }
        case START -> {
          Runnable permit = permits.tryTake(p.dependency(), p);
          if (permit == null) {
            continue; // waits for a start permit of its dependency's rate limit
          }
          it.remove();
          Ticket ticket = new Ticket(tp, tracker, p.offset(), p.dependency(), false);
          partitions.awaitOutcome(ticket);
          if (admission.started(p.dependency())) {
            metrics.dependencySeen(p.dependency());
          }
          urgentRun = queue == urgent ? urgentRun + 1 : 0;
          runner.start(
              p.item(),
              ticket,
              completions,
              p.suspect,
              permit == StartPermits.NO_PERMIT_NEEDED ? null : permit);
          return Pass.STARTED;
        }
      }
    }
    return Pass.NONE;
  }

  /**
   * Slots are free but the buffer is full of jobs waiting for their bulkhead: hands them back for a
   * moment (deferred, no attempt used) rather than block their partitions.
   */
  private void deferWaiting(ArrayDeque<PendingRecord> queue) {
    if (!admission.shouldDeferWaiting(queue.size())) {
      return;
    }
    for (Iterator<PendingRecord> it = queue.iterator(); it.hasNext(); ) {
      PendingRecord p = it.next();
      if (p.item() == null || p.checking) {
        continue;
      }
      String reason;
      if (admission.bulkheadFull(p.dependency())) {
        reason = "bulkhead of " + p.dependency() + " is full on this worker";
      } else if (permits.mustWait(p.dependency())) {
        // Only as many as it takes to fetch again: the others keep their place for a permit.
        if (!admission.shouldDeferWaiting(queue.size())) {
          break;
        }
        reason = "rate limit of " + p.dependency() + " reached";
      } else {
        continue;
      }
      TopicPartition tp = p.partition();
      OffsetTracker tracker = partitions.tracker(tp);
      it.remove();
      if (tracker == null) {
        continue;
      }
      Ticket ticket = new Ticket(tp, tracker, p.offset(), null, false);
      partitions.awaitOutcome(ticket);
      runner.defer(p.item(), ticket, completions, reason);
    }
  }

  /** Finished jobs whose outcome is not acknowledged yet. Poll thread only. */
  private int unacked() {
    return admission.unacknowledged(partitions.awaitingOutcome());
  }

  /** From a job thread: queues its completion for the poll thread. */
  private void completed(Completion<Ticket> c) {
    events.add(new LoopEvent.Job(c));
  }

  private void handleEvents() {
    LoopEvent e;
    while ((e = events.poll()) != null) {
      handle(e);
    }
  }

  private void handle(LoopEvent event) {
    switch (event) {
      case LoopEvent.Checked checked -> checked(checked);
      case LoopEvent.Permits p -> permits.granted(p);
      case LoopEvent.Job(Completion.SlotFreed<Ticket>(Ticket t)) -> admission.ended(t.dependency());
      case LoopEvent.Job(Completion.OutcomeStored<Ticket>(Ticket t)) -> {
        partitions.outcomeStored(t);
        admission.reported(t.alone());
      }
    }
  }

  /** Drops the records a redelivery check found stale (their offsets count as finished). */
  private void checked(LoopEvent.Checked c) {
    int skipped = 0;
    for (PendingRecord p : redeliveries.verdict(c)) {
      if (buffer.remove(p) || urgent.remove(p)) {
        skipped++;
        partitions.skipped(p.partition(), p.offset());
      }
    }
    redeliveries.skipped(skipped);
    bufferedCount = buffer.size() + urgent.size();
  }

  /**
   * Pauses every partition while the admission policy says so, resumes them when it no longer does.
   * Outcomes Kafka has not acknowledged count against the buffer: while results cannot be produced,
   * the worker stops taking work instead of piling up outcomes in memory.
   */
  private void applyBackpressure() {
    Set<TopicPartition> assigned = consumer.assignment();
    int unacked = unacked();
    unacknowledged = unacked;
    boolean full = admission.mustPause(draining, buffer.size(), unacked, redeliveries.asking());
    boolean urgentFull =
        admission.mustPauseUrgent(draining, urgent.size(), unacked, redeliveries.asking());
    if (urgentTopic == null) {
      urgentFull = full;
    }
    if (full == urgentFull) {
      if (full && !assigned.isEmpty()) {
        consumer.pause(assigned);
      } else if (!full && (paused || urgentPaused)) {
        consumer.resume(consumer.paused());
      }
    } else {
      List<TopicPartition> pause = new ArrayList<>();
      List<TopicPartition> resume = new ArrayList<>();
      for (TopicPartition tp : assigned) {
        boolean isUrgent = tp.topic().equals(urgentTopic);
        ((isUrgent ? urgentFull : full) ? pause : resume).add(tp);
      }
      consumer.pause(pause);
      consumer.resume(resume);
    }
    paused = full && !assigned.isEmpty();
    urgentPaused = urgentFull && !assigned.isEmpty();
  }

  /**
   * Stops starting new jobs and lets the loop finish: in-flight jobs get until {@code timeout} to
   * end, then offsets are committed and the consumer leaves the group. Blocks until done.
   *
   * @return whether the loop ended within {@code timeout} plus {@link #DRAIN_SLACK}
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    drainDeadlineNanos = System.nanoTime() + timeout.toNanos();
    draining = true;
    consumer.wakeup();
    return stopped.await(timeout.plus(DRAIN_SLACK).toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Jobs whose handler thread is alive right now. */
  public int inFlight() {
    return admission.inFlight();
  }

  /** Jobs of a dependency running on this worker now. */
  public int inFlight(String dependency) {
    return admission.inFlight(dependency);
  }

  /** The most handler threads ever alive at once. */
  public int maxInFlight() {
    return admission.maxInFlight();
  }

  /** Records fetched but not started (bounded by {@link #BUFFER_BATCHES} poll batches). */
  public int buffered() {
    return bufferedCount;
  }

  /** How many times partitions were revoked or lost (rebalances that took work away). */
  public int revocations() {
    return partitions.revocations();
  }

  /** How many partitions this worker owns right now. */
  public int assignedPartitions() {
    return partitions.assigned();
  }

  /** How many times partitions were assigned. */
  public int assignments() {
    return partitions.assignments();
  }

  /** Possibly redelivered records skipped because their job had moved on. */
  public long staleSkipped() {
    return redeliveries.staleSkipped();
  }

  /** Records behind the end of the assigned partitions (sampled each second), -1 if unknown. */
  public long lag() {
    return lag;
  }

  /** Whether the poll thread polled within the last {@code maxSilence}. */
  public boolean polling(Duration maxSilence) {
    return stopped.getCount() > 0 && System.nanoTime() - lastPollNanos < maxSilence.toNanos();
  }

  /** Seconds since the poll thread last polled. */
  public double sinceLastPollSeconds() {
    return (System.nanoTime() - lastPollNanos) / 1e9;
  }

  /** Whether the consumer is currently paused (backpressure). */
  public boolean isPaused() {
    return paused;
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

  /** What {@link Partitions} needs from this loop during a rebalance. */
  private final class RebalanceHooks implements Partitions.Loop {
    @Override
    public void handleEvents() {
      PollLoop.this.handleEvents();
    }

    @Override
    public void handleNextEvent(long nanos) throws InterruptedException {
      LoopEvent e = events.poll(nanos, TimeUnit.NANOSECONDS);
      if (e != null) {
        handle(e);
      }
    }

    @Override
    public void dropBuffered(Collection<TopicPartition> revoked) {
      buffer.removeIf(p -> revoked.contains(p.partition()));
      urgent.removeIf(p -> revoked.contains(p.partition()));
      bufferedCount = buffer.size() + urgent.size();
    }

    @Override
    public boolean paused() {
      return paused;
    }
  }
}
