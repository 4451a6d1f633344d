package dev.ferry.orchestrator.intake;

import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.ScheduleSpec;
import dev.ferry.core.model.Submission;
import dev.ferry.core.schedule.CronSchedule;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.apply.EventRecords;
import dev.ferry.orchestrator.dispatch.WorkItemPublisher;
import dev.ferry.orchestrator.fanin.FanIn;
import dev.ferry.orchestrator.loop.BatchConsumerLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.schedule.ScheduleStore;
import dev.ferry.orchestrator.store.ClaimedJob;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.orchestrator.store.NewJob;
import dev.ferry.orchestrator.store.Rejection;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles batches of {@code ferry.submit}: validates every record, inserts the valid ones in one
 * statement (idempotent by id), and sends each invalid one to {@code ferry.dlq} (header {@code
 * ferry-error}) and {@code ferry.rejected_submissions} (see {@link Rejections}), all in one
 * transaction per batch. A submission without an id gets one derived from its topic, partition and
 * offset, so a redelivered record never creates a second job.
 *
 * <p>With {@code intake.dispatch} (the default), jobs that are due at once go straight to the work
 * topic: inserted {@code QUEUED} with their first attempt, produced and acknowledged before the
 * transaction commits, which saves the dispatcher's claim (a second write of every row) and a hop
 * (sent by the dispatcher's {@link WorkItemPublisher}). Delayed jobs, parents and jobs held back by
 * an OPEN breaker stay {@code PENDING} for the dispatcher. The SQL is {@link IntakeStore}'s.
 */
public final class Intake implements BatchConsumerLoop.BatchHandler {
  private static final Logger log = LoggerFactory.getLogger(Intake.class);

  /** The DLQ header that carries the rejection reason. */
  public static final String ERROR_HEADER = "ferry-error";

  /**
   * Upper bound of a work item's bytes besides its payload, type and dependency (id, attempt,
   * timeout, JSON framing): 256. Below the limit by this estimate, a job is not encoded to check.
   */
  private static final long WORK_ITEM_FRAME_BYTES = 256;

  /** The most UTF-8 bytes one Java char encodes to (a surrogate pair is two chars): 3. */
  private static final int MAX_UTF8_BYTES_PER_CHAR = 3;

  private final DataSource dataSource;
  private final IntakeStore store = new IntakeStore();
  private final JobStore jobStore;
  private final KafkaProducer<String, byte[]> producer;
  private final OrchestratorSettings settings;
  private final SubmissionCodec codec;
  private final JobRows rows;
  private final WorkItemPublisher publisher;
  private final OrchestratorMetrics metrics;
  private final ScheduleStore scheduleStore = new ScheduleStore();

  public Intake(
      DataSource dataSource,
      JobStore jobStore,
      KafkaProducer<String, byte[]> producer,
      OrchestratorSettings settings,
      OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.jobStore = jobStore;
    this.producer = producer;
    this.settings = settings;
    this.codec = new SubmissionCodec(settings.limits());
    this.rows = new JobRows(settings);
    this.publisher = new WorkItemPublisher(producer, settings);
  }

  @Override
  public void handle(List<ConsumerRecord<String, byte[]>> records) throws Exception {
    List<NewJob> jobs = new ArrayList<>(records.size());
    Rejections rejected = new Rejections(settings);
    List<Rejection> rejections = rejected.rows();
    List<ProducerRecord<String, byte[]>> dlqRecords = rejected.dlqRecords();
    Set<UUID> submitted = new HashSet<>();
    Map<String, ScheduleStore.Definition> schedules = new java.util.LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> rec : records) {
      try {
        Submission s = codec.decode(rec.value());
        if (s.schedule() != null) {
          // Defines (creates or replaces) a schedule: no job now; the last record of a name in
          // the batch wins, as it would one batch at a time.
          schedules.put(s.schedule().name(), definition(s));
          continue;
        }
        UUID id = s.id() != null ? s.id() : derivedId(rec);
        // A valid traceparent header joins the caller's trace; otherwise the job starts one.
        String trace = TraceContext.fromHeaders(rec.headers());
        if (!submitted.add(id)) {
          continue; // the same id again in this batch: the first copy wins, with its tree
        }
        int before = jobs.size();
        rows.flatten(s.withId(id), null, id, trace != null ? trace : TraceContext.fresh(), jobs);
        String tooLarge = tooLarge(jobs.subList(before, jobs.size()));
        if (tooLarge != null) {
          jobs.subList(before, jobs.size()).clear();
          throw new InvalidSubmissionException(tooLarge);
        }
      } catch (InvalidSubmissionException e) {
        rejected.add(rec, e.getMessage());
      }
    }
    // Also a child whose id came twice (two submissions naming it): the first row wins.
    jobs = firstOfEachId(jobs);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Map<UUID, JobStatus> inserted = store.insertJobs(c, jobs, settings.intakeDispatch());
        store.insertRejections(c, rejections);
        scheduleStore.upsert(c, List.copyOf(schedules.values()));
        // Sent only once the statements went through: a batch that PostgreSQL refuses (and
        // that is then bisected) leaves no DLQ copies behind.
        List<Future<RecordMetadata>> dlqSends = new ArrayList<>(dlqRecords.size());
        for (ProducerRecord<String, byte[]> d : dlqRecords) {
          dlqSends.add(producer.send(d));
        }
        List<Future<RecordMetadata>> eventSends = new ArrayList<>();
        Map<UUID, UUID> childless = store.fixChildrenTotals(c, jobs, inserted.keySet());
        if (!childless.isEmpty()) {
          eventSends.addAll(failChildless(c, childless, jobs));
        }
        boolean waiting = false;
        // Submissions were checked for size: a refused work item fails the batch, which the
        // loop retries or bisects to the submission that caused it.
        WorkItemPublisher.Batch work = publisher.batch(WorkItemPublisher.OnRefusal.THROW);
        for (NewJob j : jobs) {
          JobStatus status = inserted.get(j.id());
          if (status == JobStatus.QUEUED) {
            work.send(ClaimedJob.firstAttempt(j));
          } else if (status == JobStatus.PENDING) {
            waiting = true;
          }
        }
        if (waiting) {
          jobStore.notifyDue(c);
        }
        // Work items and DLQ records are acknowledged before the rows commit and before the
        // offsets move past their submissions: a crash may send one twice, never lose one.
        if (!work.isEmpty() || !eventSends.isEmpty() || !dlqSends.isEmpty()) {
          producer.flush();
        }
        for (Future<RecordMetadata> f : dlqSends) {
          f.get();
        }
        for (Future<RecordMetadata> f : eventSends) {
          f.get();
        }
        work.await();
        c.commit();
        for (Rejection rj : rejections) {
          log.info(
              "Rejected submission at {}-{}@{}: {}",
              rj.topic(),
              rj.partition(),
              rj.offset(),
              rj.reason());
        }
        count(jobs, inserted.keySet(), rejections.size(), records.size());
        deduplicated(jobs, inserted.keySet());
        if (!schedules.isEmpty()) {
          log.info("Defined schedule(s) {}", schedules.keySet());
        }
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
    if (log.isDebugEnabled()) {
      log.debug("Intake batch: {} accepted, {} rejected", jobs.size(), rejections.size());
    }
  }

  /**
   * Parents none of whose children could be inserted ended FAILED: their events, and fan-in for
   * those that are children themselves.
   */
  private List<Future<RecordMetadata>> failChildless(
      Connection c, Map<UUID, UUID> childless, List<NewJob> jobs) throws SQLException {
    Map<UUID, String> traces = new HashMap<>();
    for (NewJob j : jobs) {
      if (childless.containsKey(j.id())) {
        traces.put(j.id(), j.traceparent());
      }
    }
    Instant now = Instant.now();
    List<FanIn.Finished> finished = new ArrayList<>();
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    for (Map.Entry<UUID, UUID> e : childless.entrySet()) {
      finished.add(
          new FanIn.Finished(
              e.getKey(), e.getValue(), JobStatus.FAILED, IntakeStore.NO_CHILDREN_INSERTED));
      sends.add(
          producer.send(
              EventRecords.of(
                  settings.topics().events(),
                  new JobEvent(
                      e.getKey(),
                      e.getValue(),
                      JobStatus.FAILED,
                      0,
                      null,
                      IntakeStore.NO_CHILDREN_INSERTED,
                      now),
                  traces.get(e.getKey()))));
      log.warn("Job {} ended FAILED: {}", e.getKey(), IntakeStore.NO_CHILDREN_INSERTED);
    }
    FanIn.Effects fx = new FanIn().apply(c, finished, now);
    EventRecords.send(producer, settings.topics().events(), fx, sends);
    if (fx.due()) {
      jobStore.notifyDue(c);
    }
    return sends;
  }

  /**
   * A submission that passed validation but that PostgreSQL or Kafka refused (found by the loop's
   * bisection): rejected like an invalid one, with the refusal as its reason.
   */
  @Override
  public void quarantine(ConsumerRecord<String, byte[]> rec, String reason) throws Exception {
    Rejections rejected = new Rejections(settings);
    rejected.add(rec, "could not be stored: " + reason);
    List<Rejection> rejections = rejected.rows();
    List<ProducerRecord<String, byte[]>> dlqRecords = rejected.dlqRecords();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        store.insertRejections(c, rejections);
        Future<RecordMetadata> sent = producer.send(dlqRecords.get(0));
        producer.flush();
        sent.get();
        c.commit();
        metrics.rejected(1);
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * Why the jobs of one submission cannot go out as work items (an encoded work item would exceed
   * the producer's {@code max.request.size}), or null when they can. Parents without a type never
   * go out; a reducer's input is checked when it is dispatched.
   */
  private String tooLarge(List<NewJob> tree) {
    int limit = settings.maxWorkItemBytes();
    for (NewJob j : tree) {
      if (j.type() == null || j.childrenTotal() > 0) {
        continue;
      }
      String p = j.payloadJson();
      long estimate =
          WORK_ITEM_FRAME_BYTES
              + (p.length() + j.type().length()) * (long) MAX_UTF8_BYTES_PER_CHAR
              + (j.dependency() == null
                  ? 0
                  : j.dependency().length() * (long) MAX_UTF8_BYTES_PER_CHAR);
      if (estimate <= limit) {
        continue;
      }
      int bytes = WorkItemPublisher.encode(ClaimedJob.firstAttempt(j)).length;
      if (bytes > limit) {
        return "work item too large: job "
            + j.id()
            + " would be a "
            + bytes
            + "-byte work item,"
            + " "
            + WorkItemPublisher.limitText(settings);
      }
    }
    return null;
  }

  /** Top-level jobs with a unique key that were not created: their key was taken. */
  private void deduplicated(List<NewJob> jobs, Set<UUID> inserted) {
    int n = 0;
    for (NewJob j : jobs) {
      if (j.uniqueKey() != null && j.parentId() == null && !inserted.contains(j.id())) {
        n++;
        log.debug("Job {} not created: unique key '{}' is taken", j.id(), j.uniqueKey());
      }
    }
    if (n > 0) {
      metrics.deduplicated(n);
    }
  }

  /** A schedule submission as its row; its next tick from now. */
  private static ScheduleStore.Definition definition(Submission s) {
    ScheduleSpec spec = s.schedule();
    CronSchedule cron = CronSchedule.parse(spec.cron(), spec.timeZone());
    return new ScheduleStore.Definition(
        spec.name(),
        cron.expression(),
        cron.zone().getId(),
        FerryJson.text(SubmissionCodec.encode(s.withoutSchedule())),
        spec.misfire().wireName(),
        spec.enabled(),
        cron.nextAfter(Instant.now()).orElse(null));
  }

  private void count(List<NewJob> jobs, Set<UUID> inserted, int rejected, int records) {
    metrics.intakeBatch(records);
    metrics.rejected(rejected);
    Map<String, Integer> byType = new HashMap<>();
    for (NewJob j : jobs) {
      if (inserted.contains(j.id())) {
        byType.merge(j.type() == null ? "" : j.type(), 1, Integer::sum);
      }
    }
    byType.forEach(metrics::submitted);
  }

  /** The jobs in order, each id only once (its first occurrence). */
  static List<NewJob> firstOfEachId(List<NewJob> jobs) {
    Set<UUID> seen = new HashSet<>(jobs.size() * 2);
    List<NewJob> unique = null;
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      if (!seen.add(j.id())) {
        if (unique == null) {
          unique = new ArrayList<>(jobs.subList(0, i));
        }
      } else if (unique != null) {
        unique.add(j);
      }
    }
    return unique == null ? jobs : unique;
  }

  /** A stable id for a submission without one: the same record always yields the same id. */
  static UUID derivedId(ConsumerRecord<?, ?> rec) {
    String position = rec.topic() + "/" + rec.partition() + "/" + rec.offset();
    return UUID.nameUUIDFromBytes(position.getBytes(StandardCharsets.UTF_8));
  }
}
