package dev.ferry.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;

/**
 * Dependencies (circuit-breaker keys) that can be derived without the worker: the built-in {@code
 * http} type uses its URL's host:port. Shared by the orchestrator (to hold back dispatch while a
 * breaker is open) and the worker.
 */
public final class Dependencies {
  private Dependencies() {}

  /** The dependency of a job: its own, else the derived one, else null. */
  public static String of(String type, String dependency, JsonNode payload) {
    if (dependency != null) {
      return dependency;
    }
    return "http".equals(type) ? httpHostPort(payload) : null;
  }

  /** host:port of {@code payload.url} (default ports 80/443), or null. */
  public static String httpHostPort(JsonNode payload) {
    if (payload == null) {
      return null;
    }
    try {
      URI uri = URI.create(payload.path("url").asText());
      if (uri.getHost() == null) {
        return null;
      }
      int port = uri.getPort() != -1 ? uri.getPort() : ("https".equals(uri.getScheme()) ? 443 : 80);
      return uri.getHost() + ":" + port;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
