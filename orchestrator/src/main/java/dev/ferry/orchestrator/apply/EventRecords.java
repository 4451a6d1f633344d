package dev.ferry.orchestrator.apply;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.fanin.FanIn;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** Records for {@code ferry.events}: keyed by job id, with the job's trace context header. */
public final class EventRecords {
  private EventRecords() {}

  /**
   * Sends fan-in's events, each with its job's trace context, adding their futures to {@code sends}
   * (the caller awaits them before it commits).
   */
  public static void send(
      KafkaProducer<String, byte[]> producer,
      String topic,
      FanIn.Effects fanIn,
      List<Future<RecordMetadata>> sends) {
    for (JobEvent e : fanIn.events()) {
      sends.add(producer.send(of(topic, e, fanIn.traces().get(e.jobId()))));
    }
  }

  /** The event's record, keyed by its job id, with the job's trace context header. */
  public static ProducerRecord<String, byte[]> of(String topic, JobEvent e, String traceparent) {
    ProducerRecord<String, byte[]> r =
        new ProducerRecord<>(topic, e.jobId().toString(), WireCodec.encode(e));
    TraceContext.toHeaders(r.headers(), traceparent);
    return r;
  }
}
