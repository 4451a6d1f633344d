package dev.ferry.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.core.json.FerryJson;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobResult;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The http handler against a real HTTP server on loopback. */
class HttpHandlerTest {
  private HttpServer server;
  private String base;
  private final HttpHandler handler = new HttpHandler();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    server.createContext(
        "/",
        ex -> {
          String path = ex.getRequestURI().getPath();
          int status = Integer.parseInt(path.substring(1));
          byte[] body =
              ("{\"method\":\""
                      + ex.getRequestMethod()
                      + "\",\"got\":"
                      + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
                          .length()
                      + ",\"h\":\""
                      + ex.getRequestHeaders().getFirst("X-Test")
                      + "\"}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, body.length);
          try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
          }
        });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private JobResult call(String payload) throws Exception {
    return handler.handle(
        new JobContext(
            UUID.randomUUID(),
            1,
            "http",
            FerryJson.parse(payload),
            null,
            Instant.now().plusSeconds(30)));
  }

  @Test
  void success_returnsStatusAndParsedBody() throws Exception {
    JobResult r =
        call(
            "{\"method\":\"POST\",\"url\":\""
                + base
                + "/201\",\"body\":{\"a\":1},"
                + "\"headers\":{\"X-Test\":\"yes\"}}");
    assertThat(r).isInstanceOf(JobResult.Success.class);
    var result = ((JobResult.Success) r).result();
    assertThat(result.path("status").asInt()).isEqualTo(201);
    assertThat(result.path("body").path("method").asText()).isEqualTo("POST");
    assertThat(result.path("body").path("got").asInt()).isEqualTo(7);
    assertThat(result.path("body").path("h").asText()).isEqualTo("yes");
  }

  @ParameterizedTest
  @CsvSource({"500, Retry", "503, Retry", "429, Retry", "404, Fail", "400, Fail", "409, Fail"})
  void statusCodes_areClassified(int status, String kind) throws Exception {
    JobResult r = call("{\"url\":\"" + base + "/" + status + "\"}");
    assertThat(r.getClass().getSimpleName()).isEqualTo(kind);
  }

  @Test
  void connectionRefused_isRetryable() throws Exception {
    server.stop(0);
    JobResult r = call("{\"url\":\"" + base + "/200\"}");
    assertThat(r).isInstanceOf(JobResult.Retry.class);
  }

  @Test
  void badUrl_isNotRetryable() throws Exception {
    assertThat(call("{\"url\":\"ftp://x/y\"}")).isInstanceOf(JobResult.Fail.class);
    assertThat(call("{}")).isInstanceOf(JobResult.Fail.class);
  }

  @Test
  void dependency_isHostAndPort() {
    assertThat(handler.dependency(FerryJson.parse("{\"url\":\"http://api.example.com/x\"}")))
        .isEqualTo("api.example.com:80");
    assertThat(handler.dependency(FerryJson.parse("{\"url\":\"https://api.example.com/x\"}")))
        .isEqualTo("api.example.com:443");
    assertThat(handler.dependency(FerryJson.parse("{\"url\":\"http://127.0.0.1:8080/x\"}")))
        .isEqualTo("127.0.0.1:8080");
  }
}
