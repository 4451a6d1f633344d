package dev.ferry.worker.exec;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.core.text.SafeText;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.metrics.WorkerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds attempt reports and sends them to {@code ferry.results}: start notices, and outcomes that
 * are sent until the broker acknowledges them. An outcome whose send fails transiently ({@link
 * RetriableException}, which includes timeouts) is re-sent every {@link #RESEND_DELAY} until it is
 * acknowledged; one the broker can never take (too large, invalid, ...) is replaced once by a small
 * non-retryable failure {@code result could not be sent: <reason>}, which is then sent the same
 * way. Every send has a callback that sees its failure. Thread-safe.
 */
final class AttemptReporter {
  private static final Logger log = LoggerFactory.getLogger(AttemptReporter.class);

  /** How long after a transient send failure an outcome is sent again: 1 s. */
  static final Duration RESEND_DELAY = Duration.ofSeconds(1);

  /**
   * How long a possibly redelivered attempt waits for its start notice to be acknowledged before it
   * runs anyway: 10 s.
   */
  static final Duration START_NOTICE_ACK_TIMEOUT = Duration.ofSeconds(10);

  private final Producer<String, byte[]> producer;
  private final String resultsTopic;
  private final String workerId;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final WorkerMetrics metrics;

  /**
   * @param timer where re-sends wait (never the producer's callback thread)
   */
  AttemptReporter(
      Producer<String, byte[]> producer,
      String resultsTopic,
      String workerId,
      ScheduledExecutorService timer,
      Clock clock,
      WorkerMetrics metrics) {
    this.producer = producer;
    this.resultsTopic = resultsTopic;
    this.workerId = workerId;
    this.timer = timer;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * Sends the start notice of an attempt. A failed send is logged (the outcome carries the start
   * time anyway).
   *
   * @param await wait up to {@link #START_NOTICE_ACK_TIMEOUT} for the broker's acknowledgement
   */
  void startNotice(WorkItem item, Instant started, boolean await) throws InterruptedException {
    AttemptReport notice =
        AttemptReport.started(item.id(), item.attempt(), item.run(), workerId, started);
    Future<RecordMetadata> acked = send(notice, item.traceparent(), null, false);
    if (!await) {
      return;
    }
    try {
      acked.get(START_NOTICE_ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn(
          "Start notice of job {} not acknowledged ({}); running it anyway",
          item.id(),
          e.toString());
    }
  }

  /**
   * Counts the attempt's run time and sends its outcome until the broker acknowledges it, then runs
   * {@code onAck} (on the producer's thread).
   */
  @SuppressWarnings("FutureReturnValueIgnored") // the send's callback sees every failure
  void outcome(WorkItem item, Instant started, Outcome outcome, Runnable onAck) {
    Instant finished = clock.instant();
    metrics.attempt(item.type(), outcome, Duration.between(started, finished));
    AttemptReport r =
        new AttemptReport(
            item.id(), item.attempt(), item.run(), workerId, started, finished, outcome);
    send(r, item.traceparent(), onAck, false);
  }

  /**
   * Sends a report; {@code onAck} null for a start notice (not re-sent).
   *
   * @param replacement whether {@code r} already replaces an unsendable outcome
   */
  private Future<RecordMetadata> send(
      AttemptReport r, String traceparent, Runnable onAck, boolean replacement) {
    byte[] value = WireCodec.encode(r);
    ProducerRecord<String, byte[]> rec =
        new ProducerRecord<>(resultsTopic, r.jobId().toString(), value);
    TraceContext.toHeaders(rec.headers(), traceparent);
    return producer.send(
        rec,
        (md, e) -> {
          if (e == null) {
            if (onAck != null) {
              onAck.run();
            }
          } else if (onAck != null) {
            metrics.sendFailed(WorkerMetrics.RECORD_OUTCOME);
            resendLater(r, traceparent, onAck, replacement, e);
          } else {
            metrics.sendFailed(WorkerMetrics.RECORD_START_NOTICE);
            log.warn(
                "Start notice of job {} attempt {} not sent: {}",
                r.jobId(),
                r.attempt(),
                e.toString());
          }
        });
  }

  /** Re-sends an outcome whose send failed, or its replacement (see the class comment). */
  @SuppressWarnings("FutureReturnValueIgnored") // the task and the send's callback log failures
  private void resendLater(
      AttemptReport r, String traceparent, Runnable onAck, boolean replacement, Exception e) {
    AttemptReport next = r;
    long delayMs = RESEND_DELAY.toMillis();
    boolean replace = !(e instanceof RetriableException) && !replacement;
    if (replace) {
      log.error(
          "Outcome of job {} attempt {} cannot be sent ({}); reporting a "
              + "non-retryable failure instead",
          r.jobId(),
          r.attempt(),
          e.toString());
      next =
          new AttemptReport(
              r.jobId(),
              r.attempt(),
              r.run(),
              r.workerId(),
              r.startedAt(),
              r.finishedAt(),
              new Outcome.Failed(
                  "result could not be sent: " + SafeText.echo(e.toString()), false));
      delayMs = 0;
    } else {
      log.warn(
          "Sending outcome of job {} attempt {} failed, retrying in 1 s: {}",
          r.jobId(),
          r.attempt(),
          e.toString());
    }
    AttemptReport toSend = next;
    boolean replaced = replacement || replace;
    // Off the producer's callback thread: send() may block. A send that throws is logged: the
    // outcome then stays unacknowledged and its record is redelivered after a restart.
    timer.schedule(
        () -> {
          try {
            send(toSend, traceparent, onAck, replaced);
          } catch (RuntimeException thrown) {
            log.error(
                "Re-sending the outcome of job {} attempt {} failed",
                r.jobId(),
                r.attempt(),
                thrown);
          }
        },
        delayMs,
        TimeUnit.MILLISECONDS);
  }
}
