package dev.ferry.core.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;

/** JSON form of a {@link BackoffPolicy}, as in submissions and {@code ferry.jobs.backoff}. */
public final class BackoffCodec {
  private BackoffCodec() {}

  public static ObjectNode encode(BackoffPolicy p) {
    ObjectNode n = FerryJson.object();
    n.put("strategy", p.strategy().wireName());
    n.put("initialMs", p.initialMs());
    n.put("multiplier", p.multiplier());
    n.put("maxMs", p.maxMs());
    n.put("jitter", p.jitter());
    return n;
  }

  /** Decodes a stored (already validated) policy; null for null. */
  public static BackoffPolicy decode(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    return new BackoffPolicy(
        BackoffStrategy.fromWire(n.path("strategy").asText("exponential")),
        n.path("initialMs").asLong(),
        n.path("multiplier").asDouble(),
        n.path("maxMs").asLong(),
        n.path("jitter").asDouble());
  }
}
