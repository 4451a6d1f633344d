package dev.ferry.bench;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The sends of a benchmark's submissions, never fire-and-forget: each goes out with a callback;
 * {@link #flush} waits for them and sends again, as a careful client does, what Kafka did not take
 * (e.g. a batch that expired while the co-located broker was busy; job ids make a re-send
 * harmless), and fails the run if Kafka still refuses after {@link #ROUNDS} rounds.
 */
final class Sends {
  /** Rounds of re-sending before the run fails. */
  static final int ROUNDS = 5;

  private final Queue<ProducerRecord<byte[], byte[]>> failed = new ConcurrentLinkedQueue<>();
  private final AtomicReference<Exception> last = new AtomicReference<>();

  /** Sends one record; if Kafka does not take it, {@link #flush} sends it again. */
  void send(KafkaProducer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> record) {
    var unused = producer.send(record, callback(record)); // failures reach the callback
  }

  private Callback callback(ProducerRecord<byte[], byte[]> record) {
    return (RecordMetadata metadata, Exception e) -> {
      if (e != null) {
        last.set(e);
        failed.add(record);
      }
    };
  }

  /**
   * Waits until every record sent so far is acknowledged, sending again those that were not.
   *
   * @throws IllegalStateException if some are still refused after {@link #ROUNDS} rounds
   */
  void flush(KafkaProducer<byte[], byte[]> producer) {
    producer.flush();
    for (int round = 1; !failed.isEmpty(); round++) {
      if (round > ROUNDS) {
        throw new IllegalStateException(
            failed.size()
                + " submissions refused by Kafka after "
                + ROUNDS
                + " rounds; the last error: "
                + last.get(),
            last.get());
      }
      System.out.printf(
          "  Kafka did not take %d submissions (%s); sending them again%n",
          failed.size(), last.get());
      ProducerRecord<byte[], byte[]> r;
      int n = failed.size();
      for (int i = 0; i < n && (r = failed.poll()) != null; i++) {
        send(producer, r);
      }
      producer.flush();
    }
  }
}
