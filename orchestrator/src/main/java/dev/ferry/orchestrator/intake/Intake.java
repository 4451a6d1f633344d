package dev.ferry.orchestrator.intake;

import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.model.Submission;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.loop.BatchConsumerLoop;
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

  public Intake(
      DataSource dataSource, JobStore store, KafkaProducer<String, byte[]> producer,
      OrchestratorSettings settings) {
    this.dataSource = dataSource;
    this.store = store;
    this.producer = producer;
    this.settings = settings;
    this.codec = new SubmissionCodec(settings.limits());
    this.rows = new JobRows(settings);
  }

  @Override
  public void handle(ConsumerRecords<String, byte[]> records) throws Exception {
    long probeT0 = System.currentTimeMillis();
    long probeAge = 0;
    for (ConsumerRecord<String, byte[]> r : records) { probeAge = Math.max(probeAge, probeT0 - r.timestamp()); }
    try { handle0(records); } finally {
      if (System.getenv("FERRY_PROBE") != null) System.err.println("PROBE intake n=" + records.count() + " maxAge=" + probeAge + " took=" + (System.currentTimeMillis() - probeT0));
    }
  }
  private void handle0(ConsumerRecords<String, byte[]> records) throws Exception {
    List<NewJob> jobs = new ArrayList<>(records.count());
    List<Rejection> rejections = new ArrayList<>();
    List<Future<RecordMetadata>> dlqSends = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> rec : records) {
      try {
        Submission s = codec.decode(rec.value());
        UUID id = s.id() != null ? s.id() : derivedId(rec);
        rows.flatten(s.withId(id), null, jobs);
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
    // DLQ records must be durable before the offsets move past them.
    if (!dlqSends.isEmpty()) {
      producer.flush();
    }
    for (Future<RecordMetadata> f : dlqSends) {
      f.get();
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        store.insertJobs(c, jobs);
        store.insertRejections(c, rejections);
        if (!jobs.isEmpty()) {
          store.notifyDue(c);
        }
        c.commit();
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    }
    if (log.isDebugEnabled()) {
      log.debug("Intake batch: {} accepted, {} rejected", jobs.size(), rejections.size());
    }
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
