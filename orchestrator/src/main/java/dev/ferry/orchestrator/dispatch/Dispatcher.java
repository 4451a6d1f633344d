package dev.ferry.orchestrator.dispatch;

import dev.ferry.core.loop.Backoff;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.text.SafeText;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.apply.EventRecords;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.ClaimedJob;
import dev.ferry.orchestrator.store.JobChange;
import dev.ferry.orchestrator.store.JobStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves due jobs to the work topic. Each round claims up to a batch of due jobs with {@code FOR
 * UPDATE SKIP LOCKED} (safe with several orchestrators), produces them, waits for the broker's
 * acknowledgements and only then commits, so a crash never leaves a job marked {@code QUEUED} that
 * is not on the topic (it may be on the topic twice; outcomes are fenced by attempt number).
 *
 * <p>Between rounds it sleeps on Postgres {@code LISTEN ferry_jobs}: intake and the outcome applier
 * notify it at commit, so new and rescheduled jobs are dispatched at once; it also wakes when the
 * next waiting job falls due, and every poll interval as a safety net. While the database or Kafka
 * is away it retries after a {@link Backoff}.
 *
 * <p>The SQL is {@link DispatchStore}'s; work items go out through {@link WorkItemPublisher}, and a
 * job whose work item Kafka cannot take ends {@code FAILED} in the claim's transaction.
 */
public final class Dispatcher implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final String THREAD_NAME = "ferry-dispatcher";

  /** The most characters of an error kept for {@link #failing()}: 500. */
  private static final int MAX_FAILING_CHARS = 500;

  /** How long {@link #close()} waits for the dispatcher's thread to stop: 15 s. */
  private static final long CLOSE_TIMEOUT_S = 15;

  private final DataSource dataSource;
  private final JobStore store;
  private final DispatchStore dispatchStore = new DispatchStore();
  private final FlowClaims flowClaims = new FlowClaims();
  private final WorkItemPublisher publisher;
  private final KafkaProducer<String, byte[]> producer;
  private final OrchestratorSettings settings;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile String failing;
  private final OrchestratorMetrics metrics;

  public Dispatcher(
      DataSource dataSource,
      JobStore store,
      KafkaProducer<String, byte[]> producer,
      OrchestratorSettings settings,
      OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.settings = settings;
    this.publisher = new WorkItemPublisher(producer, settings);
    this.thread = Thread.ofPlatform().name(THREAD_NAME).unstarted(this);
  }

  public void start() {
    thread.start();
  }

  /** Whether the dispatcher's thread is running. */
  public boolean isAlive() {
    return thread.isAlive();
  }

  @Override
  public void run() {
    Backoff backoff = Backoff.standard();
    try {
      while (running) {
        try (Connection listen = dataSource.getConnection()) {
          try (Statement st = listen.createStatement()) {
            st.execute("LISTEN " + JobStore.CHANNEL);
          }
          PGConnection pg = listen.unwrap(PGConnection.class);
          backoff.reset();
          while (running) {
            int n = dispatchOnce();
            failing = null;
            if (n >= settings.dispatchBatchSize()) {
              continue;
            }
            long waitMs = settings.dispatchPollInterval().toMillis();
            Instant next;
            try (Connection c = dataSource.getConnection()) {
              next = dispatchStore.nextDue(c);
            }
            if (next != null) {
              waitMs =
                  Math.max(
                      0, Math.min(waitMs, Duration.between(Instant.now(), next).toMillis() + 1));
            }
            if (waitMs > 0) {
              // Returns early on NOTIFY; drains all pending notifications.
              pg.getNotifications((int) waitMs);
            }
          }
        } catch (SQLException | RuntimeException e) {
          if (!running) {
            break;
          }
          long waitMs = backoff.next();
          log.warn(
              "Dispatcher: database or Kafka unavailable, retrying in {} ms: {}",
              waitMs,
              e.toString());
          failing = SafeText.echo(e.toString(), MAX_FAILING_CHARS);
          metrics.loopError(THREAD_NAME);
          if (Backoff.await(stopped, waitMs)) {
            break;
          }
        } catch (Throwable e) {
          if (!running) {
            break;
          }
          log.error("Dispatcher: unexpected error, retrying", e);
          failing = SafeText.echo(e.toString(), MAX_FAILING_CHARS);
          metrics.loopError(THREAD_NAME);
          // The current step without jitter or growth, as before: an unexpected error is not an
          // outage, so it does not push the next reconnect further out.
          if (Backoff.await(stopped, backoff.currentStepMs())) {
            break;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      stopped.countDown();
    }
  }

  /** One round: claim, produce, await acks, commit. Returns how many jobs were dispatched. */
  public int dispatchOnce() throws Exception {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        int batch = settings.dispatchBatchSize();
        List<ClaimedJob> claimed =
            new ArrayList<>(dispatchStore.claimDue(c, batch, settings.priorityAging()));
        if (claimed.size() < batch) {
          claimed.addAll(flowClaims.claim(c, batch - claimed.size()));
        }
        if (claimed.isEmpty()) {
          c.commit();
          return 0;
        }
        WorkItemPublisher.Batch work = publisher.batch(WorkItemPublisher.OnRefusal.RETURN);
        for (ClaimedJob j : claimed) {
          work.send(j);
        }
        // Send now instead of after linger.ms: the batch is complete, and the round (and the
        // jobs claimed behind it) waits for these acknowledgements anyway.
        producer.flush();
        Map<ClaimedJob, String> unsendable = work.await();
        if (!unsendable.isEmpty()) {
          failUnsendable(c, unsendable);
        }
        c.commit();
        metrics.dispatchBatch(claimed.size());
        log.debug("Dispatched {} jobs", claimed.size());
        return claimed.size();
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * Jobs whose work item Kafka cannot take end FAILED (non-retryable, attempt row, event, fan-in)
   * in the claim's transaction, so no round claims them again.
   */
  private void failUnsendable(Connection c, Map<ClaimedJob, String> unsendable) throws Exception {
    Map<UUID, UUID> parents =
        store.parentsOf(c, unsendable.keySet().stream().map(ClaimedJob::id).toList());
    Instant now = Instant.now();
    List<JobChange> changes = new ArrayList<>();
    List<AttemptRow> attempts = new ArrayList<>();
    List<FanIn.Finished> finished = new ArrayList<>();
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    for (Map.Entry<ClaimedJob, String> e : unsendable.entrySet()) {
      ClaimedJob j = e.getKey();
      String error = e.getValue();
      log.warn("Job {} ended FAILED: {}", j.id(), error);
      changes.add(JobChange.unsendable(j, error, now));
      attempts.add(AttemptRow.ended(j.id(), j.attempt(), null, now, now, "NON_RETRYABLE", error));
      UUID parent = parents.get(j.id());
      finished.add(new FanIn.Finished(j.id(), parent, JobStatus.FAILED, error));
      sends.add(
          producer.send(
              EventRecords.of(
                  settings.topics().events(),
                  new JobEvent(j.id(), parent, JobStatus.FAILED, j.attempt(), null, error, now),
                  j.traceparent())));
      metrics.quarantined(THREAD_NAME);
    }
    store.applyChanges(c, changes);
    store.upsertAttempts(c, attempts);
    FanIn.Effects fx = new FanIn().apply(c, finished, now);
    EventRecords.send(producer, settings.topics().events(), fx, sends);
    if (fx.due()) {
      store.notifyDue(c);
    }
    producer.flush();
    for (Future<RecordMetadata> f : sends) {
      f.get();
    }
  }

  /** Why the last round failed while the dispatcher keeps retrying, or null. */
  public String failing() {
    return failing;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      if (!stopped.await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS)) {
        log.warn("Dispatcher did not stop within {} s", CLOSE_TIMEOUT_S);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
