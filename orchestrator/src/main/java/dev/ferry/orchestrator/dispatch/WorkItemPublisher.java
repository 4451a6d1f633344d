package dev.ferry.orchestrator.dispatch;

import dev.ferry.core.json.WireCodec;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.loop.Failures;
import dev.ferry.orchestrator.store.ClaimedJob;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Puts attempts on the work topic, for the dispatcher (claimed jobs) and for intake (jobs it queues
 * itself, their first attempt): encodes the work item (the payload goes out as the database's JSON
 * text, not parsed and written again), keys it by job id, adds the job's trace context header and
 * sends it. The caller's transaction commits only after {@link Batch#await} returned, so a job is
 * never {@code QUEUED} without its work item on the topic.
 *
 * <p>A work item Kafka cannot take is handled in one of two ways, chosen per batch: {@link
 * OnRefusal#RETURN} (the dispatcher) does not send an item over the producer's limit and returns
 * it, like one whose send failed because of the record itself, with the reason, so the caller can
 * end that job FAILED; {@link OnRefusal#THROW} (intake, whose submissions were checked for size
 * already) throws the failure, so the batch is retried or bisected. Thread-safe as its producer; a
 * {@link Batch} belongs to one thread.
 */
public final class WorkItemPublisher {
  /** What a batch does with a work item that Kafka cannot take. */
  public enum OnRefusal {
    /** Returned by {@link Batch#await} with the reason; any other failure is thrown. */
    RETURN,
    /** Thrown by {@link Batch#await}, like any other failure. */
    THROW
  }

  private final KafkaProducer<String, byte[]> producer;
  private final OrchestratorSettings settings;

  public WorkItemPublisher(KafkaProducer<String, byte[]> producer, OrchestratorSettings settings) {
    this.producer = producer;
    this.settings = settings;
  }

  /** A new batch of sends, awaited together. */
  public Batch batch(OnRefusal onRefusal) {
    return new Batch(onRefusal);
  }

  /** The work item of the job's attempt, as it goes out (the value of its record). */
  public static byte[] encode(ClaimedJob j) {
    return WireCodec.encodeWorkItem(
        j.id(),
        j.attempt(),
        j.run(),
        j.type(),
        j.payloadJson(),
        j.dependency(),
        j.timeoutMs(),
        j.crashes());
  }

  /** The producer's limit, as said in every "too large" reason. */
  public static String limitText(OrchestratorSettings settings) {
    return "over the producer's limit of "
        + settings.maxWorkItemBytes()
        + " bytes"
        + " (kafka.max.request.size "
        + settings.maxRecordBytes()
        + " less room for headers)";
  }

  /** Work items sent together and awaited together. */
  public final class Batch {
    private final OnRefusal onRefusal;
    private final List<Future<RecordMetadata>> sends = new ArrayList<>();
    private final List<ClaimedJob> sent = new ArrayList<>();
    private final Map<ClaimedJob, String> refused = new LinkedHashMap<>();

    private Batch(OnRefusal onRefusal) {
      this.onRefusal = onRefusal;
    }

    /** Sends the work item of the job's attempt (not yet acknowledged). */
    public void send(ClaimedJob j) {
      byte[] item = encode(j);
      int limit = settings.maxWorkItemBytes();
      if (onRefusal == OnRefusal.RETURN && item.length > limit) {
        // Kafka would refuse it on every round: the job ends FAILED with the reason.
        refused.put(j, "work item too large: " + item.length + " bytes, " + limitText(settings));
        return;
      }
      ProducerRecord<String, byte[]> work =
          new ProducerRecord<>(
              j.urgent() ? settings.topics().workUrgent() : settings.topics().work(),
              j.id().toString(),
              item);
      TraceContext.toHeaders(work.headers(), j.traceparent());
      sends.add(producer.send(work));
      sent.add(j);
    }

    /** Whether nothing was sent. */
    public boolean isEmpty() {
      return sends.isEmpty();
    }

    /**
     * Waits for every acknowledgement (the caller flushes first). Returns the jobs whose work item
     * Kafka cannot take, with the reason, in the order they were sent (always empty with {@link
     * OnRefusal#THROW}); throws the first other failure.
     */
    public Map<ClaimedJob, String> await() throws ExecutionException, InterruptedException {
      for (int i = 0; i < sends.size(); i++) {
        try {
          sends.get(i).get();
        } catch (ExecutionException e) {
          if (onRefusal == OnRefusal.THROW || Failures.classify(e) != Failures.Kind.RECORD) {
            throw e;
          }
          refused.put(sent.get(i), "work item could not be produced: " + Failures.reason(e));
        }
      }
      return refused;
    }
  }
}
