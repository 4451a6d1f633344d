package dev.ferry.bench;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The send callback of a benchmark's submissions: a submission Kafka refused is counted and fails
 * the run at {@link #check()}, never dropped silently.
 */
final class Sends implements Callback {
  private final AtomicLong refused = new AtomicLong();
  private final AtomicReference<Exception> first = new AtomicReference<>();

  @Override
  public void onCompletion(RecordMetadata metadata, Exception e) {
    if (e != null) {
      refused.incrementAndGet();
      first.compareAndSet(null, e);
    }
  }

  /**
   * Call after {@code producer.flush()}.
   *
   * @throws IllegalStateException if Kafka refused a submission
   */
  void check() {
    if (refused.get() > 0) {
      throw new IllegalStateException(
          refused.get() + " submissions refused by Kafka; the first: " + first.get(), first.get());
    }
  }
}
