package dev.ferry.core.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import java.io.IOException;
import java.time.Instant;
import java.util.UUID;

/**
 * Encodes and decodes the messages Ferry writes itself: work items ({@code ferry.work}), attempt
 * reports ({@code ferry.results}) and events ({@code ferry.events}). Decoding throws {@link
 * IOException} naming the problem when a record is malformed. Thread-safe.
 */
public final class WireCodec {
  /** Results longer than this (as JSON text) are left out of events. */
  public static final int MAX_EVENT_RESULT_CHARS = 64 * 1024;

  private WireCodec() {}

  public static byte[] encode(WorkItem w) {
    ObjectNode n = FerryJson.object();
    n.put("id", w.id().toString());
    n.put("attempt", w.attempt());
    n.put("run", w.run());
    n.put("type", w.type());
    n.set("payload", w.payload());
    if (w.dependency() != null) {
      n.put("dependency", w.dependency());
    }
    n.put("timeoutMs", w.timeoutMs());
    if (w.crashes() > 0) {
      n.put("crashes", w.crashes());
    }
    return FerryJson.bytes(n);
  }

  /**
   * Encodes a work item whose payload is JSON text already (as the database returns it), without
   * parsing it into a tree and writing it out again: the same bytes as {@link #encode(WorkItem)}
   * for the same item.
   */
  public static byte[] encodeWorkItem(
      java.util.UUID id,
      int attempt,
      long run,
      String type,
      String payloadJson,
      String dependency,
      long timeoutMs,
      int crashes) {
    var out = new java.io.ByteArrayOutputStream(128 + payloadJson.length());
    try (com.fasterxml.jackson.core.JsonGenerator g =
        FerryJson.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("id", id.toString());
      g.writeNumberField("attempt", attempt);
      g.writeNumberField("run", run);
      g.writeStringField("type", type);
      g.writeFieldName("payload");
      g.writeRawValue(payloadJson);
      if (dependency != null) {
        g.writeStringField("dependency", dependency);
      }
      g.writeNumberField("timeoutMs", timeoutMs);
      if (crashes > 0) {
        g.writeNumberField("crashes", crashes);
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static WorkItem decodeWorkItem(byte[] bytes) throws IOException {
    JsonNode n = read(bytes);
    return new WorkItem(
        uuid(n, "id"),
        n.path("attempt").asInt(),
        n.path("run").asLong(),
        n.path("type").asText(null),
        n.has("payload") ? n.get("payload") : FerryJson.object(),
        n.hasNonNull("dependency") ? n.get("dependency").asText() : null,
        n.path("timeoutMs").asLong(0),
        n.path("crashes").asInt(0));
  }

  public static byte[] encode(AttemptReport r) {
    ObjectNode n = FerryJson.object();
    n.put("jobId", r.jobId().toString());
    n.put("attempt", r.attempt());
    n.put("run", r.run());
    n.put("workerId", r.workerId());
    n.put("startedAt", r.startedAt().toString());
    if (r.finishedAt() != null) {
      n.put("finishedAt", r.finishedAt().toString());
    }
    switch (r.outcome()) {
      case null -> n.put("outcome", "STARTED");
      case Outcome.Succeeded s -> {
        n.put("outcome", "SUCCEEDED");
        n.set("result", s.result() == null ? NullNode.instance : s.result());
      }
      case Outcome.Failed f -> {
        n.put("outcome", f.retryable() ? "FAILED" : "NON_RETRYABLE");
        n.put("error", f.error());
      }
      case Outcome.TimedOut t -> {
        n.put("outcome", "TIMED_OUT");
        n.put("error", t.error());
      }
      case Outcome.Spawned s -> {
        n.put("outcome", "SPAWNED");
        n.set("children", s.children());
      }
      case Outcome.Deferred d -> {
        n.put("outcome", "DEFERRED");
        n.put("retryAt", d.until().toString());
        n.put("error", d.reason());
      }
    }
    return FerryJson.bytes(n);
  }

  public static AttemptReport decodeReport(byte[] bytes) throws IOException {
    JsonNode n = read(bytes);
    String kind = n.path("outcome").asText("");
    String error = n.path("error").asText(null);
    Outcome outcome =
        switch (kind) {
          case "STARTED" -> null;
          case "SUCCEEDED" -> new Outcome.Succeeded(n.get("result"));
          case "FAILED" -> new Outcome.Failed(error, true);
          case "NON_RETRYABLE" -> new Outcome.Failed(error, false);
          case "TIMED_OUT" -> new Outcome.TimedOut(error);
          case "DEFERRED" -> new Outcome.Deferred(instant(n, "retryAt"), error);
          case "SPAWNED" -> new Outcome.Spawned(n.get("children"));
          default -> throw new IOException("unknown outcome '" + kind + "'");
        };
    return new AttemptReport(
        uuid(n, "jobId"),
        n.path("attempt").asInt(),
        n.path("run").asLong(),
        n.path("workerId").asText(null),
        instant(n, "startedAt"),
        n.hasNonNull("finishedAt") ? instant(n, "finishedAt") : null,
        outcome);
  }

  public static byte[] encode(JobEvent e) {
    ObjectNode n = FerryJson.object();
    n.put("jobId", e.jobId().toString());
    n.put("parentId", e.parentId() == null ? null : e.parentId().toString());
    n.put("status", e.status().name());
    n.put("attempt", e.attempt());
    if (e.result() != null) {
      // Events stay small: a large result (a fan-in aggregate of 100,000 children) is left
      // out and read from ferry.jobs.result instead.
      String text = FerryJson.text(e.result());
      if (text.length() <= MAX_EVENT_RESULT_CHARS) {
        n.set("result", e.result());
      } else {
        n.put("resultOmitted", true);
        n.put("resultChars", text.length());
      }
    }
    if (e.error() != null) {
      n.put("error", e.error());
    }
    n.put("at", e.at().toString());
    return FerryJson.bytes(n);
  }

  public static JobEvent decodeEvent(byte[] bytes) throws IOException {
    JsonNode n = read(bytes);
    return new JobEvent(
        uuid(n, "jobId"),
        n.hasNonNull("parentId") ? UUID.fromString(n.get("parentId").asText()) : null,
        JobStatus.valueOf(n.path("status").asText()),
        n.path("attempt").asInt(),
        n.get("result"),
        n.path("error").asText(null),
        instant(n, "at"));
  }

  private static JsonNode read(byte[] bytes) throws IOException {
    if (bytes == null) {
      throw new IOException("null record value");
    }
    JsonNode n = FerryJson.MAPPER.readTree(bytes);
    if (n == null || !n.isObject()) {
      throw new IOException("expected a JSON object");
    }
    return n;
  }

  private static UUID uuid(JsonNode n, String field) throws IOException {
    try {
      return UUID.fromString(n.path(field).asText());
    } catch (IllegalArgumentException e) {
      throw new IOException("field '" + field + "' is not a UUID");
    }
  }

  private static Instant instant(JsonNode n, String field) throws IOException {
    try {
      return Instants.parse(n.path(field).asText());
    } catch (RuntimeException e) {
      throw new IOException("field '" + field + "' is not an instant");
    }
  }
}
