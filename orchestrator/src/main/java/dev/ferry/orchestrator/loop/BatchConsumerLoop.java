package dev.ferry.orchestrator.loop;

import dev.ferry.core.loop.Backoff;
import dev.ferry.core.text.SafeText;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer loop that handles each poll batch in bounded chunks (at most {@code
 * maxRecordsPerTransaction} records and {@code maxBytesPerTransaction} bytes of values, each one
 * handler call and so one transaction) and commits offsets only after the handler returns (that is,
 * after the database commit).
 *
 * <p>When the handler throws, {@link Failures} says why. A transient failure (database or broker
 * away) rewinds the batch and retries it after a backoff with jitter, so nothing is skipped while
 * PostgreSQL or Kafka is down. A failure caused by the data (PostgreSQL refused a value, a record
 * too large for Kafka) would fail again forever: the chunk is bisected, the halves that go through
 * are committed, and each record that fails on its own is handed to {@link BatchHandler#quarantine}
 * with the reason (counted in {@code ferry_quarantined_total} and logged once). A failure of
 * unknown kind is retried twice, then isolated the same way. While a batch keeps failing, {@link
 * #failing()} says why (the process reports not ready).
 *
 * <p>The loop owns its consumer; {@link #close()} wakes it and waits for it to stop.
 */
public final class BatchConsumerLoop implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BatchConsumerLoop.class);

  /** Handles batches of records, and sets aside a record that cannot be handled. */
  public interface BatchHandler {
    /**
     * Handles records (in poll order) in one transaction; throws to have them retried or, if the
     * failure is caused by the data, isolated.
     */
    void handle(List<ConsumerRecord<String, byte[]>> records) throws Exception;

    /**
     * Sets aside one record that fails on its own with a non-transient error, keeping it for
     * inspection with the reason (e.g. the DLQ, or its job ended FAILED). Throws only if that fails
     * too; a transient failure is retried, any other is logged and the record skipped.
     */
    void quarantine(ConsumerRecord<String, byte[]> record, String reason) throws Exception;
  }

  /** Most records handled in one transaction. */
  static final int MAX_RECORDS_PER_TRANSACTION = 1_000;

  /** Most bytes of record values handled in one transaction. */
  static final long MAX_BYTES_PER_TRANSACTION = 8L << 20;

  /** Failures of unknown kind tolerated (retried as transient) before a batch is isolated. */
  static final int UNKNOWN_RETRIES = 2;

  /** How long one poll waits for records: 500 ms. */
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);

  /** Handled offsets are committed at most this often while running: 100 ms. */
  private static final long COMMIT_INTERVAL_NANOS = Duration.ofMillis(100).toNanos();

  /** The lag is sampled at most this often: 1 s. */
  private static final long LAG_SAMPLE_INTERVAL_NANOS = Duration.ofSeconds(1).toNanos();

  /** How long the last offset commit and closing the consumer may take: 5 s. */
  private static final Duration CONSUMER_CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /** How long {@link #close()} waits for the loop's thread to stop: 15 s. */
  private static final long STOP_TIMEOUT_S = 15;

  /** The most characters of an error kept for {@link #failing()} and logs: 500. */
  private static final int MAX_FAILING_CHARS = 500;

  private final String name;
  private final KafkaConsumer<String, byte[]> consumer;
  private final BatchHandler handler;
  private final OrchestratorMetrics metrics;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile long lag = -1;

  /** Records of the batch being handled or retried (not yet in the database). */
  private volatile int inBatch;

  private volatile String failing;

  /** Consecutive failed tries of the current batch. */
  private int failures;

  /** The loop thread's reconnect and retry backoff. */
  private final Backoff backoff = Backoff.standard();

  private long lagSampledNanos;

  /** Offsets of handled batches not yet committed (committed at most every 100 ms). */
  private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();

  private long committedNanos;

  public BatchConsumerLoop(
      String name,
      KafkaConsumer<String, byte[]> consumer,
      List<String> topics,
      BatchHandler handler,
      OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.name = name;
    this.consumer = consumer;
    this.handler = handler;
    consumer.subscribe(
        topics,
        new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
            // Hand over what this member has handled, so the next owner does not read it again.
            Map<TopicPartition, OffsetAndMetadata> mine = new HashMap<>();
            for (TopicPartition tp : partitions) {
              OffsetAndMetadata o = uncommitted.remove(tp);
              if (o != null) {
                mine.put(tp, o);
              }
            }
            if (!mine.isEmpty()) {
              try {
                consumer.commitSync(mine);
              } catch (RuntimeException e) {
                log.info(
                    "{}: offset commit on revocation failed ({}); the next owner re-reads"
                        + " those records, which changes nothing",
                    BatchConsumerLoop.this.name,
                    e.toString());
              }
            }
          }

          @Override
          public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {}

          @Override
          public void onPartitionsLost(java.util.Collection<TopicPartition> partitions) {
            partitions.forEach(uncommitted::remove);
          }
        });
    this.thread = Thread.ofPlatform().name(name).unstarted(this);
  }

  public void start() {
    thread.start();
  }

  @Override
  public void run() {
    try {
      while (running) {
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(POLL_TIMEOUT);
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          long waitMs = backoff.next();
          log.warn("{}: poll failed, retrying in {} ms", name, waitMs, e);
          metrics.loopError(name);
          pause(waitMs);
          continue;
        }
        sampleLag();
        commitHandled(false);
        if (records.isEmpty()) {
          continue;
        }
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>(records.count());
        records.forEach(all::add);
        int done = 0;
        try {
          inBatch = all.size();
          for (List<ConsumerRecord<String, byte[]>> chunk : chunks(all)) {
            handleOrIsolate(chunk);
            uncommitted.putAll(offsets(chunk));
            done += chunk.size();
            inBatch = all.size() - done;
          }
          inBatch = 0;
          failing = null;
          failures = 0;
          backoff.reset();
        } catch (WakeupException e) {
          break;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (Throwable e) {
          failures++;
          long waitMs = backoff.next();
          if (failing == null) {
            log.warn(
                "{}: batch of {} records failed, will retry it in {} ms: {}",
                name,
                all.size() - done,
                waitMs,
                e.toString(),
                e);
          } else {
            log.warn(
                "{}: batch of {} records failed again, retrying in {} ms: {}",
                name,
                all.size() - done,
                waitMs,
                e.toString());
          }
          failing = SafeText.echo(e.toString(), MAX_FAILING_CHARS);
          metrics.loopError(name);
          rewind(all.subList(done, all.size()));
          commitHandled(false);
          pause(waitMs);
          continue;
        }
        commitHandled(false);
      }
    } finally {
      commitHandled(true);
      try {
        // Waits for the asynchronous offset commits still in flight.
        consumer.close(CONSUMER_CLOSE_TIMEOUT);
      } catch (RuntimeException e) {
        log.warn("{}: closing consumer failed", name, e);
      }
      stopped.countDown();
    }
  }

  /**
   * Commits the offsets of handled batches: asynchronously and at most every 100 ms while running
   * (a synchronous commit per batch cost a broker round trip per batch, and a commit per small
   * batch a write to the offsets topic), synchronously when stopping. Every batch is in the
   * database before its offsets are here; if a commit fails, or a crash loses the last 100 ms of
   * them, those records are read and handled again, which changes nothing (idempotent handlers).
   */
  private void commitHandled(boolean last) {
    long now = System.nanoTime();
    if (uncommitted.isEmpty() || (!last && now - committedNanos < COMMIT_INTERVAL_NANOS)) {
      return;
    }
    committedNanos = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(uncommitted);
    uncommitted.clear();
    try {
      if (last) {
        consumer.commitSync(offsets, CONSUMER_CLOSE_TIMEOUT);
      } else {
        consumer.commitAsync(
            offsets,
            (o, e) -> {
              if (e != null) {
                // Runs on this thread (inside poll): keep the offsets for the next commit unless a
                // newer batch superseded them or the partition has moved to another member.
                log.info(
                    "{}: offset commit failed ({}); retrying with the next commit",
                    name,
                    e.toString());
                var owned = consumer.assignment();
                offsets.forEach(
                    (tp, om) -> {
                      if (owned.contains(tp)) {
                        uncommitted.putIfAbsent(tp, om);
                      }
                    });
              }
            });
      }
    } catch (WakeupException e) {
      // stopping: the next owner re-reads these records (idempotent handlers)
    } catch (RuntimeException e) {
      log.info(
          "{}: offset commit failed ({}); a later commit or the next owner covers it",
          name,
          e.toString());
      if (!last) {
        // Offered again with the next commit (an idle partition has no later batch to do it).
        var owned = consumer.assignment();
        offsets.forEach(
            (tp, om) -> {
              if (owned.contains(tp)) {
                uncommitted.putIfAbsent(tp, om);
              }
            });
      }
    }
  }

  /**
   * Handles a chunk; if it fails because of its data, bisects it: halves that go through are
   * handled, a record that fails alone is quarantined. Transient failures (and unknown ones, the
   * first {@link #UNKNOWN_RETRIES} times) are thrown to retry the batch.
   */
  private void handleOrIsolate(List<ConsumerRecord<String, byte[]>> chunk) throws Exception {
    try {
      handler.handle(chunk);
    } catch (WakeupException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      Failures.Kind kind = Failures.classify(e);
      if (kind == Failures.Kind.TRANSIENT
          || (kind == Failures.Kind.UNKNOWN && failures < UNKNOWN_RETRIES)) {
        throw e;
      }
      log.info(
          "{}: a chunk of {} records failed because of its data ({}); isolating the" + " culprit",
          name,
          chunk.size(),
          SafeText.echo(e.toString(), 300));
      isolate(chunk, e);
    }
  }

  private void isolate(List<ConsumerRecord<String, byte[]>> records, Exception cause)
      throws Exception {
    if (records.size() == 1) {
      quarantine(records.get(0), cause);
      return;
    }
    int mid = records.size() / 2;
    for (List<ConsumerRecord<String, byte[]>> half :
        List.of(records.subList(0, mid), records.subList(mid, records.size()))) {
      try {
        handler.handle(half);
      } catch (WakeupException | InterruptedException e) {
        throw e;
      } catch (Exception e) {
        if (Failures.classify(e) == Failures.Kind.TRANSIENT) {
          throw e;
        }
        isolate(half, e);
      }
    }
  }

  private void quarantine(ConsumerRecord<String, byte[]> rec, Exception cause) throws Exception {
    String reason = Failures.reason(cause);
    try {
      handler.quarantine(rec, reason);
      log.warn(
          "{}: set aside the record at {}-{}@{}: {}",
          name,
          rec.topic(),
          rec.partition(),
          rec.offset(),
          reason);
    } catch (WakeupException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      if (Failures.classify(e) == Failures.Kind.TRANSIENT) {
        throw e;
      }
      log.error(
          "{}: the record at {}-{}@{} failed ({}) and could not be set aside either ({});"
              + " skipping it",
          name,
          rec.topic(),
          rec.partition(),
          rec.offset(),
          reason,
          SafeText.echo(e.toString(), MAX_FAILING_CHARS),
          e);
    }
    metrics.quarantined(name);
  }

  private List<List<ConsumerRecord<String, byte[]>>> chunks(
      List<ConsumerRecord<String, byte[]>> all) {
    return chunks(all, MAX_RECORDS_PER_TRANSACTION, MAX_BYTES_PER_TRANSACTION);
  }

  /**
   * The records in order, in chunks of at most {@code maxRecords} records and {@code maxBytes}
   * bytes of values (a single larger record is a chunk of its own).
   */
  static <K> List<List<ConsumerRecord<K, byte[]>>> chunks(
      List<ConsumerRecord<K, byte[]>> all, int maxRecords, long maxBytes) {
    List<List<ConsumerRecord<K, byte[]>>> out = new ArrayList<>();
    int start = 0;
    long bytes = 0;
    for (int i = 0; i < all.size(); i++) {
      byte[] v = all.get(i).value();
      long size = v == null ? 0 : v.length;
      if (i > start && (i - start >= maxRecords || bytes + size > maxBytes)) {
        out.add(all.subList(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (start < all.size()) {
      out.add(all.subList(start, all.size()));
    }
    return out;
  }

  /**
   * Records not yet in the database: those behind the end of the assigned partitions (sampled each
   * second) plus the batch being handled or retried; -1 if unknown.
   */
  public long lag() {
    long l = lag;
    return l < 0 ? l : l + inBatch;
  }

  /** The error of the batch being retried, or null when the last batch went through. */
  public String failing() {
    return failing;
  }

  /** Whether the loop's thread is running. */
  public boolean isAlive() {
    return thread.isAlive();
  }

  private void sampleLag() {
    long now = System.nanoTime();
    if (now - lagSampledNanos < LAG_SAMPLE_INTERVAL_NANOS) {
      return;
    }
    lagSampledNanos = now;
    lag = dev.ferry.core.kafka.KafkaClients.lag(consumer);
  }

  /** Waits {@code waitMs} (a real reconnect backoff), cut short by {@link #close()}. */
  private void pause(long waitMs) {
    try {
      Backoff.await(stopped, waitMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Seeks each partition back to its first record among {@code records}. */
  private void rewind(List<ConsumerRecord<String, byte[]>> records) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    for (Map.Entry<TopicPartition, Long> f : first.entrySet()) {
      TopicPartition tp = f.getKey();
      try {
        consumer.seek(tp, f.getValue());
      } catch (IllegalStateException e) {
        // Partition no longer assigned: the new owner starts from the committed offset.
        log.debug("{}: {} revoked before rewind", name, tp);
      }
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> offsets(
      List<ConsumerRecord<String, byte[]>> records) {
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      out.merge(
          new TopicPartition(r.topic(), r.partition()),
          new OffsetAndMetadata(r.offset() + 1),
          (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    return out;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      if (!stopped.await(STOP_TIMEOUT_S, TimeUnit.SECONDS)) {
        log.warn("{}: did not stop within {} s", name, STOP_TIMEOUT_S);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
