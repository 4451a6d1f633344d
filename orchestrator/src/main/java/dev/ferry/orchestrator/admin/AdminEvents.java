package dev.ferry.orchestrator.admin;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The events an operator action publishes on {@code ferry.events}: one per changed job, keyed by
 * job id, as the engine publishes its own. Shared by {@code ferry retry|cancel} and the console.
 */
public final class AdminEvents {
  private AdminEvents() {}

  /** One event record per changed job, now in {@code status}. */
  public static List<ProducerRecord<String, byte[]>> of(
      String eventsTopic, List<JobAdmin.Changed> changed, JobStatus status, String error) {
    Instant now = Instant.now();
    return changed.stream()
        .map(
            c ->
                new ProducerRecord<>(
                    eventsTopic,
                    c.id().toString(),
                    WireCodec.encode(
                        new JobEvent(
                            c.id(), c.parentId(), status, c.attempts(), null, error, now))))
        .toList();
  }
}
