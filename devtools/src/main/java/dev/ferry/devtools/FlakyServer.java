package dev.ferry.devtools;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small downstream service on loopback for the demo: {@code /ok} answers 200, {@code
 * /flaky?key=K&fail=N} answers 503 to the first N calls for K and 200 after, {@code /missing}
 * answers 404 and {@code /down} always 503. Counts every call.
 */
final class FlakyServer implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final AtomicLong total = new AtomicLong();
  private final java.util.concurrent.ConcurrentLinkedQueue<java.time.Instant> outageCalls =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** While true, {@code /outage} answers 503; after, 200. */
  volatile boolean outage = true;

  FlakyServer() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  long totalCalls() {
    return total.get();
  }

  String dependency() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  long outageCallsBetween(java.time.Instant from, java.time.Instant to) {
    return outageCalls.stream().filter(t -> !t.isBefore(from) && t.isBefore(to)).count();
  }

  long outageCalls() {
    return outageCalls.size();
  }

  private void handle(HttpExchange ex) throws IOException {
    total.incrementAndGet();
    URI uri = ex.getRequestURI();
    Map<String, String> q = query(uri.getRawQuery());
    int status;
    String body;
    switch (uri.getPath()) {
      case "/ok" -> {
        status = 200;
        body = "{\"ok\":true}";
      }
      case "/flaky" -> {
        int n =
            calls
                .computeIfAbsent(q.getOrDefault("key", ""), k -> new AtomicInteger())
                .incrementAndGet();
        int fail = Integer.parseInt(q.getOrDefault("fail", "1"));
        status = n <= fail ? 503 : 200;
        body = status == 200 ? "{\"ok\":true,\"call\":" + n + "}" : "{\"error\":\"try again\"}";
      }
      case "/outage" -> {
        outageCalls.add(java.time.Instant.now());
        status = outage ? 503 : 200;
        body = outage ? "{\"error\":\"outage\"}" : "{\"ok\":true}";
      }
      case "/missing" -> {
        status = 404;
        body = "{\"error\":\"no such thing\"}";
      }
      default -> {
        status = 503;
        body = "{\"error\":\"down\"}";
      }
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw != null) {
      for (String kv : raw.split("&")) {
        int i = kv.indexOf('=');
        if (i > 0) {
          m.put(kv.substring(0, i), kv.substring(i + 1));
        }
      }
    }
    return m;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
