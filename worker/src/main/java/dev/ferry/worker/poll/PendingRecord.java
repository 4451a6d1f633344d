package dev.ferry.worker.poll;

import dev.ferry.core.model.WorkItem;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A fetched record waiting in the poll loop's buffer, decoded once. Poll thread only (the
 * redelivery check reads only {@link #item()}, which is immutable).
 */
final class PendingRecord {
  private final ConsumerRecord<String, byte[]> record;
  private final WorkItem item;
  private final String dependency;

  /** Waiting for the redelivery check: may not start yet. */
  boolean checking;

  /** Possibly a redelivery: its start notice must be acknowledged before the handler runs. */
  boolean suspect;

  /**
   * @param item the decoded work item, or null when the record is malformed
   * @param dependency the item's dependency (breaker and bulkhead key), or null
   */
  PendingRecord(ConsumerRecord<String, byte[]> record, WorkItem item, String dependency) {
    this.record = record;
    this.item = item;
    this.dependency = dependency;
  }

  /** A record that could not be decoded: it is skipped (its offset counts as finished). */
  static PendingRecord malformed(ConsumerRecord<String, byte[]> record) {
    return new PendingRecord(record, null, null);
  }

  ConsumerRecord<String, byte[]> record() {
    return record;
  }

  /** The work item, or null when the record is malformed. */
  WorkItem item() {
    return item;
  }

  String dependency() {
    return dependency;
  }

  TopicPartition partition() {
    return new TopicPartition(record.topic(), record.partition());
  }

  long offset() {
    return record.offset();
  }
}
