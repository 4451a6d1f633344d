package dev.ferry.orchestrator.intake;

import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Submission;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.loop.BatchConsumerLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.orchestrator.store.NewJob;
import dev.ferry.orchestrator.store.Rejection;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles batches of {@code ferry.submit}: validates every record, inserts the valid ones in
 * one statement (idempotent by id), and sends each invalid one to {@code ferry.dlq} (header
 * {@code ferry-error}) and {@code ferry.rejected_submissions}, all in one transaction per
 * batch. A submission without an id gets one derived from its topic, partition and offset, so
 * a redelivered record never creates a second job.
 *
 * <p>With {@code intake.dispatch} (the default), jobs that are due at once go straight to the
 * work topic: inserted {@code QUEUED} with their first attempt, produced and acknowledged before
 * the transaction commits, which saves the dispatcher's claim (a second write of every row) and
 * a hop. Delayed jobs, parents and jobs held back by an OPEN breaker stay {@code PENDING} for
 * the dispatcher.
 */
public final class Intake implements BatchConsumerLoop.BatchHandler {
  private static final Logger log = LoggerFactory.getLogger(Intake.class);
  /** The DLQ header that carries the rejection reason. */
  public static final String ERROR_HEADER = "ferry-error";

  private final DataSource dataSource;
  private final JobStore store;
  private final KafkaProducer<String, byte[]> producer;
  private final OrchestratorSettings settings;
  private final SubmissionCodec codec;
  private final JobRows rows;
  private final OrchestratorMetrics metrics;

  public Intake(
      DataSource dataSource, JobStore store, KafkaProducer<String, byte[]> producer,
      OrchestratorSettings settings, OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.settings = settings;
    this.codec = new SubmissionCodec(settings.limits());
    this.rows = new JobRows(settings);
  }

  @Override
  public void handle(ConsumerRecords<String, byte[]> records) throws Exception {
    List<NewJob> jobs = new ArrayList<>(records.count());
    List<Rejection> rejections = new ArrayList<>();
    List<Future<RecordMetadata>> dlqSends = new ArrayList<>();
    java.util.Set<UUID> submitted = new java.util.HashSet<>();
    for (ConsumerRecord<String, byte[]> rec : records) {
      try {
        Submission s = codec.decode(rec.value());
        UUID id = s.id() != null ? s.id() : derivedId(rec);
        // A valid traceparent header joins the caller's trace; otherwise the job starts one.
        String trace = TraceContext.fromHeaders(rec.headers());
        if (!submitted.add(id)) {
          continue; // the same id again in this batch: the first copy wins, with its tree
        }
        rows.flatten(s.withId(id), null, id, trace != null ? trace : TraceContext.fresh(), jobs);
      } catch (InvalidSubmissionException e) {
        log.info("Rejected submission at {}-{}@{}: {}", rec.topic(), rec.partition(),
            rec.offset(), e.getMessage());
        rejections.add(
            new Rejection(rec.topic(), rec.partition(), rec.offset(), e.getMessage(),
                printable(rec.value())));
        ProducerRecord<String, byte[]> dlq =
            new ProducerRecord<>(settings.topics().dlq(), null, rec.key(), rec.value());
        for (Header h : rec.headers()) {
          dlq.headers().add(h);
        }
        dlq.headers().add(ERROR_HEADER, e.getMessage().getBytes(StandardCharsets.UTF_8));
        dlqSends.add(producer.send(dlq));
      }
    }
    // Also a child whose id came twice (two submissions naming it): the first row wins.
    jobs = firstOfEachId(jobs);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Map<UUID, JobStatus> inserted = store.insertJobs(c, jobs, settings.intakeDispatch());
        store.insertRejections(c, rejections);
        List<Future<RecordMetadata>> workSends = new ArrayList<>();
        boolean waiting = false;
        for (NewJob j : jobs) {
          JobStatus status = inserted.get(j.id());
          if (status == JobStatus.QUEUED) {
            // Its first attempt, as the dispatcher's claim would have made it.
            byte[] item = WireCodec.encodeWorkItem(j.id(), 1, 1, j.type(), j.payloadJson(),
                j.dependency(), j.timeoutMs(), 0);
            ProducerRecord<String, byte[]> work =
                new ProducerRecord<>(settings.topics().work(), j.id().toString(), item);
            TraceContext.toHeaders(work.headers(), j.traceparent());
            workSends.add(producer.send(work));
          } else if (status == JobStatus.PENDING) {
            waiting = true;
          }
        }
        if (waiting) {
          store.notifyDue(c);
        }
        // Work items and DLQ records are acknowledged before the rows commit and before the
        // offsets move past their submissions: a crash may send one twice, never lose one.
        if (!workSends.isEmpty() || !dlqSends.isEmpty()) {
          producer.flush();
        }
        for (Future<RecordMetadata> f : dlqSends) {
          f.get();
        }
        for (Future<RecordMetadata> f : workSends) {
          f.get();
        }
        c.commit();
        count(jobs, inserted.keySet(), rejections.size(), records.count());
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
    if (log.isDebugEnabled()) {
      log.debug("Intake batch: {} accepted, {} rejected", jobs.size(), rejections.size());
    }
  }

  private void count(List<NewJob> jobs, java.util.Set<UUID> inserted, int rejected, int records) {
    metrics.intakeBatch(records);
    metrics.rejected(rejected);
    Map<String, Integer> byType = new java.util.HashMap<>();
    for (NewJob j : jobs) {
      if (inserted.contains(j.id())) {
        byType.merge(j.type() == null ? "" : j.type(), 1, Integer::sum);
      }
    }
    byType.forEach(metrics::submitted);
  }

  /** The jobs in order, each id only once (its first occurrence). */
  static List<NewJob> firstOfEachId(List<NewJob> jobs) {
    java.util.Set<UUID> seen = new java.util.HashSet<>(jobs.size() * 2);
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

  /** The raw value as text if it is valid UTF-8 without NUL bytes, else base64 with a marker. */
  static String printable(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      String s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(value))
              .toString();
      if (s.indexOf('\0') < 0) {
        return s;
      }
    } catch (CharacterCodingException e) {
      // fall through to base64
    }
    return "base64:" + Base64.getEncoder().encodeToString(value);
  }
}
