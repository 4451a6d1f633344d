package dev.ferry.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.core.model.Dependencies;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * {@code http}: one HTTP request, payload {@code {"method","url","headers","body","timeoutMs"}}.
 * 2xx succeeds with {@code {"status","body"}} (body parsed as JSON when it is JSON); 5xx, 429,
 * connect errors and timeouts are retryable; other 4xx are not. The dependency defaults to the
 * URL's host:port. Thread-safe (one shared {@link HttpClient}).
 */
public final class HttpHandler implements JobHandler {
  private final HttpClient client =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NORMAL)
          .build();

  @Override
  public String type() {
    return "http";
  }

  @Override
  public String dependency(JsonNode payload) {
    return Dependencies.httpHostPort(payload);
  }

  @Override
  public JobResult handle(JobContext context) throws InterruptedException {
    JsonNode p = context.payload();
    String url = p.path("url").asText(null);
    if (url == null) {
      return JobResult.fail("http needs a payload field \"url\"");
    }
    URI uri;
    try {
      uri = URI.create(url);
      if (uri.getScheme() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        return JobResult.fail("http url must be http:// or https:// but was '" + url + "'");
      }
    } catch (IllegalArgumentException e) {
      return JobResult.fail("http url is invalid: " + e.getMessage());
    }
    String method = p.path("method").asText("GET").toUpperCase(Locale.ROOT);
    JsonNode body = p.get("body");
    HttpRequest.BodyPublisher publisher =
        body == null || body.isNull()
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.isTextual() ? body.textValue() : FerryJson.text(body));
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).method(method, publisher);
    if (p.hasNonNull("timeoutMs")) {
      req.timeout(Duration.ofMillis(p.get("timeoutMs").asLong()));
    }
    if (body != null && body.isContainerNode()) {
      req.header("Content-Type", "application/json");
    }
    JsonNode headers = p.get("headers");
    boolean ownTrace = false;
    if (headers != null && headers.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> h = it.next();
        req.header(h.getKey(), h.getValue().asText());
        ownTrace |= h.getKey().equalsIgnoreCase(TraceContext.HEADER);
      }
    }
    if (!ownTrace && context.traceparent() != null) {
      // The downstream call joins the job's trace.
      req.header(TraceContext.HEADER, context.traceparent());
    }
    HttpResponse<String> resp;
    try {
      resp = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      return JobResult.retry("http timeout calling " + url + ": " + e.getMessage());
    } catch (IOException e) {
      return JobResult.retry("http connect/IO error calling " + url + ": " + e);
    } catch (IllegalArgumentException e) {
      return JobResult.fail("http request is invalid: " + e.getMessage());
    }
    int status = resp.statusCode();
    if (status >= 200 && status < 300) {
      ObjectNode result = FerryJson.object();
      result.put("status", status);
      result.set("body", parseBody(resp.body()));
      return JobResult.success(result);
    }
    String error = "http " + status + " from " + url;
    if (status >= 500 || status == 429) {
      return JobResult.retry(error);
    }
    return JobResult.fail(error);
  }

  private static JsonNode parseBody(String body) {
    if (body == null || body.isEmpty()) {
      return com.fasterxml.jackson.databind.node.NullNode.instance;
    }
    try {
      return FerryJson.MAPPER.readTree(body);
    } catch (IOException e) {
      return com.fasterxml.jackson.databind.node.TextNode.valueOf(body);
    }
  }
}
