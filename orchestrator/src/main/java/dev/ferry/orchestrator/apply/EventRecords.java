package dev.ferry.orchestrator.apply;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.trace.TraceContext;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Records for {@code ferry.events}: keyed by job id, with the job's trace context header. */
public final class EventRecords {
  private EventRecords() {}

  public static ProducerRecord<String, byte[]> of(String topic, JobEvent e, String traceparent) {
    ProducerRecord<String, byte[]> r =
        new ProducerRecord<>(topic, e.jobId().toString(), WireCodec.encode(e));
    TraceContext.toHeaders(r.headers(), traceparent);
    return r;
  }
}
