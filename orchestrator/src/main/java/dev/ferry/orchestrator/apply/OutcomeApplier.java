package dev.ferry.orchestrator.apply;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.Submission;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.text.SafeText;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.intake.IntakeStore;
import dev.ferry.orchestrator.intake.JobRows;
import dev.ferry.orchestrator.loop.BatchConsumerLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.ActivityStore;
import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.JobChange;
import dev.ferry.orchestrator.store.JobRow;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.orchestrator.store.NewJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.random.RandomGenerator;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies batches of attempt reports from {@code ferry.results}. Per batch, in one transaction:
 * lock the jobs concerned, decide each report with {@link Transitions}, apply the changes with one
 * guarded update, write {@code ferry.job_attempts}, and publish the events (acknowledged before the
 * commit, so an event is never lost; a crash may repeat one). A duplicate or stale report fails its
 * guard and changes nothing: each attempt is applied at most once. The statements are {@link
 * JobStore}'s (shared) and {@link OutcomeStore}'s; children a handler spawned are inserted by
 * {@link IntakeStore}.
 */
public final class OutcomeApplier implements BatchConsumerLoop.BatchHandler {
  private static final Logger log = LoggerFactory.getLogger(OutcomeApplier.class);

  /** The most characters of a worker id stored from a report: 200. */
  private static final int MAX_WORKER_ID_CHARS = 200;

  /** The most characters of a malformed report's parse error in the log: 300. */
  private static final int MAX_LOGGED_ERROR_CHARS = 300;

  private final DataSource dataSource;
  private final JobStore store;
  private final IntakeStore intakeStore = new IntakeStore();
  private final OutcomeStore outcomeStore = new OutcomeStore();
  private final KafkaProducer<String, byte[]> producer;
  private final String eventsTopic;
  private final Transitions transitions;
  private final Clock clock;
  private final RandomGenerator random;
  private final FanIn fanIn = new FanIn();
  private final ActivityStore activity = new ActivityStore();
  private final JobRows rows;
  private final OrchestratorMetrics metrics;

  public OutcomeApplier(
      DataSource dataSource,
      JobStore store,
      KafkaProducer<String, byte[]> producer,
      String eventsTopic,
      BackoffPolicy defaultBackoff,
      Clock clock,
      RandomGenerator random,
      JobRows rows,
      OrchestratorMetrics metrics) {
    this.rows = rows;
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.eventsTopic = eventsTopic;
    this.transitions = new Transitions(defaultBackoff);
    this.clock = clock;
    this.random = random;
  }

  /**
   * Dynamic fan-out: inserts the children that handlers spawned, in bulk, and makes each spawning
   * job a parent that completes with their aggregate. Returns whether any were made.
   */
  private boolean spawn(
      Connection c, Collection<Decision> decisions, Set<UUID> applied, Map<UUID, JobRow> jobs)
      throws Exception {
    List<NewJob> children = new ArrayList<>();
    List<OutcomeStore.Spawning> parents = new ArrayList<>();
    for (Decision d : decisions) {
      if (d.spawn() == null || !applied.contains(d.change().id())) {
        continue;
      }
      UUID parent = d.change().id();
      List<Submission> kids = rows.spawnedChildren(d.spawn());
      for (int i = 0; i < kids.size(); i++) {
        Submission k = kids.get(i);
        UUID id =
            k.id() != null
                ? k.id()
                : UUID.nameUUIDFromBytes(
                    (parent + "/spawn/" + d.change().expectedRun() + "/" + i)
                        .getBytes(StandardCharsets.UTF_8));
        rows.flatten(k.withId(id), parent, null, jobs.get(parent).traceparent(), children);
      }
      parents.add(new OutcomeStore.Spawning(parent, kids.size()));
    }
    if (parents.isEmpty()) {
      return false;
    }
    intakeStore.insertJobs(c, children);
    outcomeStore.markSpawned(c, parents);
    return true;
  }

  @Override
  public void handle(List<ConsumerRecord<String, byte[]>> records) throws Exception {
    Map<String, AttemptReport> reports = new LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> rec : records) {
      AttemptReport r = decode(rec);
      if (r == null) {
        continue;
      }
      // One report per dispatch and batch: an outcome supersedes the start notice.
      String k = r.jobId() + "#" + r.run();
      AttemptReport prev = reports.get(k);
      if (prev == null || prev.isStartNotice()) {
        reports.put(k, r);
      } else if (!r.isStartNotice()) {
        log.debug("Duplicate outcome for job {} attempt {} in one batch", r.jobId(), r.attempt());
      }
    }
    apply(reports);
  }

  /**
   * A report that PostgreSQL refused (found by the loop's bisection): its attempt ends
   * non-retryable with the refusal as the reason, so the job ends FAILED (attempt row, event,
   * fan-in) instead of its outcome being retried forever.
   */
  @Override
  public void quarantine(ConsumerRecord<String, byte[]> rec, String reason) throws Exception {
    AttemptReport r = decode(rec);
    if (r == null) {
      return;
    }
    String what = r.isStartNotice() ? "start notice" : "result";
    AttemptReport failed =
        new AttemptReport(
            r.jobId(),
            r.attempt(),
            r.run(),
            SafeText.echo(r.workerId(), MAX_WORKER_ID_CHARS),
            r.startedAt(),
            r.finishedAt() == null ? clock.instant() : r.finishedAt(),
            new Outcome.Failed(what + " could not be stored: " + reason, false));
    Map<String, AttemptReport> one = new LinkedHashMap<>();
    one.put(r.jobId() + "#" + r.run(), failed);
    apply(one);
  }

  /** The report in a record, made storable (NUL escaped); null (logged) if malformed. */
  private AttemptReport decode(ConsumerRecord<String, byte[]> rec) {
    try {
      AttemptReport r = WireCodec.decodeReport(rec.value());
      return mayNeedEscaping(rec.value()) ? storable(r) : r;
    } catch (IOException | RuntimeException e) {
      log.error(
          "Ignoring malformed attempt report at {}-{}@{}: {}",
          rec.topic(),
          rec.partition(),
          rec.offset(),
          SafeText.echo(e.getMessage(), MAX_LOGGED_ERROR_CHARS));
      return null;
    }
  }

  /**
   * Whether the JSON text has a unicode escape ({@code &#92;u0000}, a surrogate): only then can a
   * string in it be one PostgreSQL refuses. A byte scan, cheaper than walking every result.
   */
  static boolean mayNeedEscaping(byte[] json) {
    for (int i = 0; i + 1 < json.length; i++) {
      if (json[i] == '\\' && json[i + 1] == 'u') {
        return true;
      }
    }
    return false;
  }

  /** The report with every string PostgreSQL would refuse made storable. */
  static AttemptReport storable(AttemptReport r) {
    Outcome o =
        switch (r.outcome()) {
          case null -> null;
          case Outcome.Succeeded s -> new Outcome.Succeeded(SafeText.storable(s.result()));
          case Outcome.Failed f -> new Outcome.Failed(SafeText.error(f.error()), f.retryable());
          case Outcome.TimedOut t -> new Outcome.TimedOut(SafeText.error(t.error()));
          case Outcome.Deferred d -> new Outcome.Deferred(d.until(), SafeText.error(d.reason()));
          case Outcome.Spawned sp -> sp;
        };
    return new AttemptReport(
        r.jobId(),
        r.attempt(),
        r.run(),
        SafeText.storable(r.workerId(), MAX_WORKER_ID_CHARS),
        r.startedAt(),
        r.finishedAt(),
        o);
  }

  private void apply(Map<String, AttemptReport> reports) throws Exception {
    if (reports.isEmpty()) {
      return;
    }
    metrics.applyBatch(reports.size());
    Instant now = clock.instant();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Map<UUID, JobRow> jobs =
            store.lockJobs(c, reports.values().stream().map(AttemptReport::jobId).toList());
        List<UUID> unknown =
            reports.values().stream()
                .map(AttemptReport::jobId)
                .distinct()
                .filter(id -> !jobs.containsKey(id))
                .toList();
        if (!unknown.isEmpty()) {
          // Intake puts due jobs on the work topic before it commits their rows: a fast worker's
          // report can arrive first. Wait for in-flight intake transactions and look again.
          intakeStore.awaitInFlightIntake(c);
          jobs.putAll(store.lockJobs(c, unknown));
        }
        Map<UUID, Decision> decisions = new LinkedHashMap<>();
        for (AttemptReport r : reports.values()) {
          JobRow job = jobs.get(r.jobId());
          if (job == null) {
            log.warn("Attempt report for unknown job {}", r.jobId());
            continue;
          }
          if (decisions.containsKey(r.jobId())) {
            // Two attempts of one job in one batch: the later one cannot be current yet.
            continue;
          }
          transitions.decide(job, r, now, random).ifPresent(d -> decisions.put(r.jobId(), d));
        }
        List<JobChange> changes = decisions.values().stream().map(Decision::change).toList();
        Set<UUID> applied = store.applyChanges(c, changes);
        List<AttemptRow> attemptRows = new ArrayList<>();
        List<AttemptRow> givenBack = new ArrayList<>();
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        boolean rescheduled = false;
        List<FanIn.Finished> finished = new ArrayList<>();
        for (Decision d : decisions.values()) {
          if (!applied.contains(d.change().id())) {
            continue;
          }
          if (d.change().status().isTerminal()) {
            JobRow row = jobs.get(d.change().id());
            // A key slot or dependency capacity freed: the dispatcher may start the next job.
            rescheduled |= row.constrained();
            finished.add(
                new FanIn.Finished(
                    row.id(), row.parentId(), d.change().status(), d.change().lastError()));
          }
          if (d.givesBackAttempt()) {
            givenBack.add(d.attempt());
          } else {
            attemptRows.add(d.attempt());
          }
          rescheduled |= d.change().status() == JobStatus.RETRY_WAIT;
          JobEvent e = d.event();
          if (e != null) {
            sends.add(
                producer.send(EventRecords.of(eventsTopic, e, jobs.get(e.jobId()).traceparent())));
          }
        }
        rescheduled |= spawn(c, decisions.values(), applied, jobs);
        FanIn.Effects fanIn = this.fanIn.apply(c, finished, now);
        EventRecords.send(producer, eventsTopic, fanIn, sends);
        rescheduled |= fanIn.due();
        store.upsertAttempts(c, attemptRows);
        outcomeStore.deleteAttempts(c, givenBack);
        if (rescheduled) {
          store.notifyDue(c);
        }
        producer.flush(); // the transaction waits for these acks: send now, no linger
        for (Future<RecordMetadata> f : sends) {
          f.get();
        }
        // Last, so the per-minute rows are locked only for the commit.
        activity.record(
            c,
            now,
            decisions.values().stream()
                .filter(d -> applied.contains(d.change().id()) && !d.givesBackAttempt())
                .map(
                    d ->
                        new ActivityStore.Outcome(
                            jobs.get(d.change().id()).type(), d.change().status()))
                .toList());
        c.commit();
        for (Decision d : decisions.values()) {
          if (applied.contains(d.change().id())) {
            metrics.outcome(
                jobs.get(d.change().id()).type(), d.change().status(), d.givesBackAttempt());
          }
        }
        log.debug("Applied {} of {} reports", applied.size(), reports.size());
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
  }
}
