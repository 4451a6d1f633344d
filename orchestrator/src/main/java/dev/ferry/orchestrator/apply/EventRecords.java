package dev.ferry.orchestrator.apply;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.trace.TraceContext;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Records for {@code ferry.events}: keyed by job id, with the job's trace context header. */
public final class EventRecords {
  private EventRecords() {}

  /**
   * Sends fan-in's events, each with its job's trace context, adding their futures to
   * {@code sends} (the caller awaits them before it commits).
   */
  public static void send(org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer,
      String topic, dev.ferry.orchestrator.fanin.FanIn.Effects fanIn,
      java.util.List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>>
          sends) {
    for (JobEvent e : fanIn.events()) {
      sends.add(producer.send(of(topic, e, fanIn.traces().get(e.jobId()))));
    }
  }

  public static ProducerRecord<String, byte[]> of(String topic, JobEvent e, String traceparent) {
    ProducerRecord<String, byte[]> r =
        new ProducerRecord<>(topic, e.jobId().toString(), WireCodec.encode(e));
    TraceContext.toHeaders(r.headers(), traceparent);
    return r;
  }
}
