package dev.ferry.orchestrator.loop;

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
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile long lag = -1;
  /** Records of the batch being handled or retried (not yet in the database). */
  private volatile int inBatch;
  private volatile String failing;
  private long lagSampledNanos;

  public BatchConsumerLoop(
      String name, KafkaConsumer<String, byte[]> consumer, List<String> topics,
      BatchHandler handler) {
    this.name = name;
    this.consumer = consumer;
    this.handler = handler;
    consumer.subscribe(topics);
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
          backoffMs = pause(backoffMs);
          continue;
        }
        sampleLag();
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
          rewind(records);
          backoffMs = pause(backoffMs);
          continue;
        }
        try {
          consumer.commitSync(offsets(records));
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          // The batch is in the database; if its partitions moved in a rebalance, the new
          // owner re-reads it and applying it again changes nothing (idempotent handlers).
          log.info("{}: offset commit failed ({}); a later commit or the next owner covers it",
              name, e.toString());
        }
      }
    } finally {
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.warn("{}: closing consumer failed", name, e);
      }
      stopped.countDown();
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
