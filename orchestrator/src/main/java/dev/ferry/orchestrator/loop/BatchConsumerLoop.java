package dev.ferry.orchestrator.loop;

import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
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
 * A consumer loop that handles each poll batch as a unit and commits its offsets only after the
 * handler returns (that is, after the database commit). If the handler throws, the batch is
 * rewound and retried after a backoff with jitter, so nothing is skipped while Postgres or Kafka
 * is down. The loop owns its consumer; {@link #close()} wakes it and waits for it to stop.
 */
public final class BatchConsumerLoop implements Runnable, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BatchConsumerLoop.class);

  /** Handles one batch; throws to have it retried. */
  @FunctionalInterface
  public interface BatchHandler {
    void handle(ConsumerRecords<String, byte[]> records) throws Exception;
  }

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
  private long lagSampledNanos;
  /** Offsets of handled batches not yet committed (committed at most every 100 ms). */
  private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
  private long committedNanos;

  public BatchConsumerLoop(
      String name, KafkaConsumer<String, byte[]> consumer, List<String> topics,
      BatchHandler handler) {
    this(name, consumer, topics, handler, OrchestratorMetrics.none());
  }

  public BatchConsumerLoop(
      String name, KafkaConsumer<String, byte[]> consumer, List<String> topics,
      BatchHandler handler, OrchestratorMetrics metrics) {
    this.metrics = metrics;
    this.name = name;
    this.consumer = consumer;
    this.handler = handler;
    consumer.subscribe(topics, new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
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
            log.info("{}: offset commit on revocation failed ({}); the next owner re-reads"
                + " those records, which changes nothing", BatchConsumerLoop.this.name,
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
    long backoffMs = 100;
    try {
      while (running) {
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(500));
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          log.warn("{}: poll failed, retrying in {} ms", name, backoffMs, e);
          metrics.loopError(name);
          backoffMs = pause(backoffMs);
          continue;
        }
        sampleLag();
        commitHandled(false);
        if (records.isEmpty()) {
          continue;
        }
        try {
          inBatch = records.count();
          handler.handle(records);
          inBatch = 0;
          failing = null;
          backoffMs = 100;
        } catch (WakeupException e) {
          break;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (Throwable e) {
          if (failing == null) {
            log.warn("{}: batch of {} records failed, will retry it in {} ms: {}", name,
                records.count(), backoffMs, e.toString(), e);
          } else {
            log.warn("{}: batch of {} records failed again, retrying in {} ms: {}", name,
                records.count(), backoffMs, e.toString());
          }
          failing = e.toString();
          metrics.loopError(name);
          rewind(records);
          backoffMs = pause(backoffMs);
          continue;
        }
        uncommitted.putAll(offsets(records));
        commitHandled(false);
      }
    } finally {
      commitHandled(true);
      try {
        // Waits for the asynchronous offset commits still in flight.
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.warn("{}: closing consumer failed", name, e);
      }
      stopped.countDown();
    }
  }

  /**
   * Commits the offsets of handled batches: asynchronously and at most every 100 ms while
   * running (a synchronous commit per batch cost a broker round trip per batch, and a commit
   * per small batch a write to the offsets topic), synchronously when stopping. Every batch is
   * in the database before its offsets are here; if a commit fails, or a crash loses the last
   * 100 ms of them, those records are read and handled again, which changes nothing
   * (idempotent handlers).
   */
  private void commitHandled(boolean last) {
    long now = System.nanoTime();
    if (uncommitted.isEmpty() || (!last && now - committedNanos < 100_000_000L)) {
      return;
    }
    committedNanos = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(uncommitted);
    uncommitted.clear();
    try {
      if (last) {
        consumer.commitSync(offsets, Duration.ofSeconds(5));
      } else {
        consumer.commitAsync(offsets, (o, e) -> {
          if (e != null) {
            // Runs on this thread (inside poll): keep the offsets for the next commit unless a
            // newer batch superseded them or the partition has moved to another member.
            log.info("{}: offset commit failed ({}); retrying with the next commit", name,
                e.toString());
            var owned = consumer.assignment();
            offsets.forEach((tp, om) -> {
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
      log.info("{}: offset commit failed ({}); a later commit or the next owner covers it",
          name, e.toString());
    }
  }

  /**
   * Records not yet in the database: those behind the end of the assigned partitions (sampled
   * each second) plus the batch being handled or retried; -1 if unknown.
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
    if (now - lagSampledNanos < 1_000_000_000L) {
      return;
    }
    lagSampledNanos = now;
    lag = dev.ferry.core.kafka.KafkaClients.lag(consumer);
  }

  private long pause(long backoffMs) {
    try {
      // A real delay (reconnect backoff), interruptible by close().
      if (stopped.await(backoffMs + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1),
          TimeUnit.MILLISECONDS)) {
        return backoffMs;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
    return Math.min(backoffMs * 2, 5_000);
  }

  private void rewind(ConsumerRecords<String, byte[]> records) {
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<String, byte[]>> rs = records.records(tp);
      try {
        consumer.seek(tp, rs.get(0).offset());
      } catch (IllegalStateException e) {
        // Partition no longer assigned: the new owner starts from the committed offset.
        log.debug("{}: {} revoked before rewind", name, tp);
      }
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> offsets(
      ConsumerRecords<String, byte[]> records) {
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<String, byte[]>> rs = records.records(tp);
      out.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
    }
    return out;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      if (!stopped.await(15, TimeUnit.SECONDS)) {
        log.warn("{}: did not stop within 15 s", name);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
