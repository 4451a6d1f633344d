package dev.ferry.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.Dependencies;
import dev.ferry.core.text.SafeText;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.egress.BlockedDestinationException;
import dev.ferry.worker.egress.CheckingDnsResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.hc.client5.http.RedirectException;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * {@code http}: one HTTP request, payload {@code {"method","url","headers","body","timeoutMs"}}.
 * 2xx succeeds with {@code {"status","body"}} or {@code {"status","contentType","bodyBase64"}} (see
 * {@link HttpBodies}); 5xx, 429, connect errors and timeouts are retryable; other 4xx, bad
 * arguments, destinations refused by {@code http.allow}/{@code http.deny} (no connection is
 * attempted) and bodies over {@code http.max.response.bytes} (read streamed, never buffered past
 * the cap) are not. The dependency defaults to the URL's host:port.
 *
 * <p>Every connection, redirect hops included, resolves its host once through a {@link
 * CheckingDnsResolver} and connects only to the addresses it allowed. No proxy, no cookies, no
 * automatic retries (Ferry retries). Thread-safe: one shared pooled client.
 */
public final class HttpHandler implements JobHandler, AutoCloseable {
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  /** RFC 9110 token characters: what a header name may be made of. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  /** Headers the client sets itself; a payload setting them is refused. */
  private static final Set<String> RESERVED =
      Set.of(
          "host",
          "content-length",
          "transfer-encoding",
          "connection",
          "upgrade",
          "te",
          "keep-alive",
          "proxy-connection",
          "expect");

  /** A request's timeout when its payload names none (and no attempt deadline is known): 30 s. */
  private static final long DEFAULT_TIMEOUT_MS = 30_000;

  /** How long a connection may take to open: 5 s. */
  static final Timeout CONNECT_TIMEOUT = Timeout.ofSeconds(5);

  /**
   * The connection pool's bound, in total and per route: 10 000, i.e. none in practice (the
   * worker's concurrency and the bulkheads are the real bounds).
   */
  static final int MAX_CONNECTIONS = 10_000;

  private final HttpSettings settings;
  private final CloseableHttpClient client;

  /** With the documented defaults ({@link HttpSettings#defaults()}). */
  public HttpHandler() {
    this(HttpSettings.defaults());
  }

  public HttpHandler(HttpSettings settings) {
    this.settings = settings;
    this.client =
        HttpClients.custom()
            .setConnectionManager(
                PoolingHttpClientConnectionManagerBuilder.create()
                    .setDnsResolver(new CheckingDnsResolver(settings.policy()))
                    .setDefaultConnectionConfig(
                        ConnectionConfig.custom().setConnectTimeout(CONNECT_TIMEOUT).build())
                    .setMaxConnTotal(MAX_CONNECTIONS)
                    .setMaxConnPerRoute(MAX_CONNECTIONS)
                    .build())
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableAuthCaching()
            .build();
  }

  @Override
  public String type() {
    return "http";
  }

  @Override
  public String dependency(JsonNode payload) {
    return Dependencies.httpHostPort(payload);
  }

  /** A payload the handler cannot run: the attempt fails non-retryable with this message. */
  private static final class BadArgument extends Exception {
    private static final long serialVersionUID = 1L;

    BadArgument(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public JobResult handle(JobContext context) throws InterruptedException {
    HttpUriRequestBase request;
    String shownUrl;
    try {
      JsonNode p = context.payload();
      URI uri = url(p);
      shownUrl = SafeText.echo(uri.toString());
      request = new HttpUriRequestBase(method(p), uri);
      request.setConfig(requestConfig(p, context.deadline()));
      body(p, request);
      boolean ownTrace = headers(p, request);
      if (!ownTrace && context.traceparent() != null) {
        // The downstream call joins the job's trace.
        request.setHeader(TraceContext.HEADER, context.traceparent());
      }
    } catch (BadArgument e) {
      return JobResult.fail(e.getMessage());
    }
    return call(request, shownUrl);
  }

  private JobResult call(HttpUriRequestBase request, String shownUrl) throws InterruptedException {
    ClassicHttpResponse response = null;
    try {
      response = client.executeOpen(null, request, HttpClientContext.create());
      int status = response.getCode();
      if (status < 200 || status >= 300) {
        // The body is not needed: drop the connection instead of draining it.
        request.cancel();
        String error = "http " + status + " from " + shownUrl;
        return status >= 500 || status == 429 ? JobResult.retry(error) : JobResult.fail(error);
      }
      HttpEntity entity = response.getEntity();
      byte[] body = entity == null ? new byte[0] : read(entity, request);
      if (body == null) {
        return JobResult.fail(
            "http response body from "
                + shownUrl
                + " is larger than "
                + "http.max.response.bytes ("
                + settings.maxResponseBytes()
                + ")");
      }
      Header ct = response.getFirstHeader("Content-Type");
      return JobResult.success(HttpBodies.result(status, body, ct == null ? null : ct.getValue()));
    } catch (BlockedDestinationException e) {
      return JobResult.fail(e.getMessage() + " (url " + shownUrl + ")");
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("interrupted calling " + shownUrl);
      }
      if (e.getCause() instanceof RedirectException r) {
        return JobResult.fail(
            "http redirects from " + shownUrl + ": " + SafeText.echo(r.getMessage()));
      }
      String what = e instanceof InterruptedIOException ? "timeout" : "connect/IO error";
      return JobResult.retry(
          "http " + what + " calling " + shownUrl + ": " + SafeText.echo(e.toString()));
    } finally {
      if (response != null) {
        try {
          response.close();
        } catch (IOException e) {
          // The connection was cancelled (dropped) on purpose; nothing is lost.
        }
      }
    }
  }

  /** The whole body, or null if it is over the cap (the connection is then dropped). */
  private byte[] read(HttpEntity entity, HttpUriRequestBase request) throws IOException {
    int max = settings.maxResponseBytes();
    if (entity.getContentLength() > max) {
      request.cancel();
      return null;
    }
    try (InputStream in = entity.getContent()) {
      if (in == null) {
        return new byte[0];
      }
      byte[] first = in.readNBytes(max);
      if (in.read() < 0) {
        return first;
      }
      request.cancel();
      return null;
    } catch (IOException e) {
      if (request.isCancelled()) {
        return null; // closing the cancelled stream
      }
      throw e;
    }
  }

  private static URI url(JsonNode p) throws BadArgument {
    JsonNode u = p.get("url");
    if (u == null || u.isNull()) {
      throw new BadArgument("http needs a payload field \"url\"");
    }
    if (!u.isTextual()) {
      throw new BadArgument("http url must be a string but was " + u.getNodeType());
    }
    String url = u.textValue();
    URI uri;
    try {
      uri = new URI(url);
    } catch (java.net.URISyntaxException e) {
      throw new BadArgument("http url is invalid: " + SafeText.echo(e.getMessage()));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new BadArgument(
          "http url must be http:// or https:// but was '" + SafeText.echo(url) + "'");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new BadArgument("http url has no host: '" + SafeText.echo(url) + "'");
    }
    if (uri.getRawUserInfo() != null) {
      throw new BadArgument("http url must not hold credentials (use an Authorization header)");
    }
    return uri;
  }

  private static String method(JsonNode p) throws BadArgument {
    JsonNode m = p.get("method");
    if (m == null || m.isNull()) {
      return "GET";
    }
    String method = m.isTextual() ? m.textValue().toUpperCase(Locale.ROOT) : null;
    if (method == null || !METHODS.contains(method)) {
      throw new BadArgument(
          "http method must be one of "
              + String.join(", ", METHODS.stream().sorted().toList())
              + " but was "
              + SafeText.echo(String.valueOf(m)));
    }
    return method;
  }

  /** The payload's {@code timeoutMs}, else the time left until the attempt's deadline. */
  private RequestConfig requestConfig(JsonNode p, Instant deadline) throws BadArgument {
    long ms;
    JsonNode t = p.get("timeoutMs");
    if (t != null && !t.isNull()) {
      if (!t.isIntegralNumber() || !t.canConvertToLong() || t.asLong() <= 0) {
        throw new BadArgument(
            "http timeoutMs must be a positive integer but was " + SafeText.echo(t.toString()));
      }
      ms = t.asLong();
    } else if (deadline != null) {
      ms = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
    } else {
      ms = DEFAULT_TIMEOUT_MS;
    }
    Timeout timeout = Timeout.ofMilliseconds(ms);
    return RequestConfig.custom()
        .setResponseTimeout(timeout)
        .setConnectionRequestTimeout(timeout)
        .setRedirectsEnabled(settings.followRedirects())
        .setMaxRedirects(HttpSettings.MAX_REDIRECTS)
        .setCircularRedirectsAllowed(false)
        .build();
  }

  private static void body(JsonNode p, HttpUriRequestBase request) {
    JsonNode body = p.get("body");
    if (body == null || body.isNull()) {
      return;
    }
    if (body.isTextual()) {
      request.setEntity(
          new ByteArrayEntity(body.textValue().getBytes(StandardCharsets.UTF_8), null));
    } else {
      request.setEntity(
          new ByteArrayEntity(
              FerryJson.bytes(body),
              body.isContainerNode() ? ContentType.create("application/json") : null));
    }
  }

  /** Sets the payload's headers; true if they include a {@code traceparent}. */
  private static boolean headers(JsonNode p, HttpUriRequestBase request) throws BadArgument {
    JsonNode headers = p.get("headers");
    if (headers == null || headers.isNull()) {
      return false;
    }
    if (!headers.isObject()) {
      throw new BadArgument("http headers must be an object but was " + headers.getNodeType());
    }
    boolean ownTrace = false;
    for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> h = it.next();
      String name = h.getKey();
      if (!TOKEN.matcher(name).matches()) {
        throw new BadArgument("http header name is invalid: '" + SafeText.echo(name) + "'");
      }
      if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
        throw new BadArgument("http header '" + name + "' is set by the client, not the payload");
      }
      JsonNode v = h.getValue();
      if (!v.isValueNode() || v.isNull()) {
        throw new BadArgument(
            "http header '"
                + name
                + "' must be a string, number or boolean "
                + "but was "
                + v.getNodeType());
      }
      String value = v.asText();
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
          throw new BadArgument(
              "http header '"
                  + name
                  + "' has a control character in its "
                  + "value: '"
                  + SafeText.echo(value)
                  + "'");
        }
      }
      request.addHeader(name, value);
      ownTrace |= name.equalsIgnoreCase(TraceContext.HEADER);
    }
    return ownTrace;
  }

  /** Closes the connection pool. */
  @Override
  public void close() throws IOException {
    client.close();
  }
}
