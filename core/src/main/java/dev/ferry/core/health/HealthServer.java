package dev.ferry.core.health;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health endpoints of a Ferry process, on loopback by default:
 *
 * <ul>
 *   <li>{@code GET /health/live}: 200 while the process's loops are alive (restart it on 503);
 *   <li>{@code GET /health/ready}: 200 when it can do its work (database and Kafka reachable), 503
 *       otherwise;
 *   <li>{@code GET /health}: the whole report as JSON (what is down and since when, lag, in
 *       flight), with the readiness status code;
 *   <li>{@code GET /metrics}: every metric in the Prometheus text format.
 * </ul>
 */
public final class HealthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HealthServer.class);

  /** One health report: whether the process is alive, ready, and the details. */
  public record Report(boolean live, boolean ready, ObjectNode details) {}

  /** Pending connections the health server queues (probes are few). */
  private static final int BACKLOG = 16;

  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  /**
   * Starts the server from {@code health.host}/{@code health.port} ({@code defaultPort} when the
   * port is not set); returns null when the port is -1 (off).
   *
   * @throws ConfigException when the port is taken (say {@code health.port=0} for any free port, as
   *     several processes on one host need): probes must not silently lose their target
   */
  public static HealthServer start(FerryConfig config, int defaultPort, Supplier<Report> reports) {
    return start(config, defaultPort, reports, null);
  }

  /** As {@link #start(FerryConfig, int, Supplier)}, also serving {@code /metrics} (if given). */
  public static HealthServer start(
      FerryConfig config, int defaultPort, Supplier<Report> reports, Supplier<String> metrics) {
    String configured = config.get(Setting.HEALTH_PORT);
    int port;
    try {
      port = configured.isBlank() ? defaultPort : Integer.parseInt(configured.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          Setting.HEALTH_PORT.spellings() + ": not a port number: '" + configured + "'");
    }
    if (port < 0) {
      return null;
    }
    if (port > 65_535) {
      throw new ConfigException(Setting.HEALTH_PORT.spellings() + ": not a port number: " + port);
    }
    String host = config.get(Setting.HEALTH_HOST);
    HttpServer s;
    try {
      s = HttpServer.create(new InetSocketAddress(host, port), BACKLOG);
    } catch (BindException e) {
      throw new ConfigException(
          "the health port "
              + host
              + ":"
              + port
              + " is in use (another"
              + " Ferry process on this host?): set "
              + Setting.HEALTH_PORT.spellings()
              + " to a free port, 0 for any free port (logged at start), or -1 for none");
    } catch (IOException e) {
      throw new ConfigException(
          "cannot start the health server on " + host + ":" + port + ": " + e.getMessage());
    }
    s.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("ferry-health").daemon().unstarted(r)));
    s.createContext("/health/live", ex -> respond(ex, reports, Kind.LIVE));
    s.createContext("/health/ready", ex -> respond(ex, reports, Kind.READY));
    s.createContext("/health", ex -> respond(ex, reports, Kind.FULL));
    if (metrics != null) {
      s.createContext("/metrics", ex -> scrape(ex, metrics));
    }
    s.start();
    HealthServer hs = new HealthServer(s);
    log.info(
        "Health endpoints on http://{}:{}/health (live, ready){}",
        host,
        hs.port(),
        metrics == null ? "" : ", metrics on /metrics");
    return hs;
  }

  private enum Kind {
    LIVE,
    READY,
    FULL
  }

  private static void respond(HttpExchange ex, Supplier<Report> reports, Kind kind)
      throws IOException {
    try (ex) {
      if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      Report r;
      try {
        r = reports.get();
      } catch (RuntimeException e) {
        log.warn("Health report failed", e);
        r = new Report(true, false, FerryJson.object().put("error", e.toString()));
      }
      boolean ok = kind == Kind.LIVE ? r.live() : r.ready();
      ObjectNode body = FerryJson.object();
      body.put("status", ok ? "UP" : "DOWN");
      body.put("live", r.live());
      body.put("ready", r.ready());
      if (kind == Kind.FULL || !ok) {
        body.setAll(r.details());
      }
      byte[] bytes = FerryJson.bytes(body);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(ok ? 200 : 503, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static void scrape(HttpExchange ex, Supplier<String> metrics) throws IOException {
    try (ex) {
      if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = metrics.get().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** The port actually bound. */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
