package dev.ferry.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bounded, storable responses and non-retryable argument errors of the http handler. */
class HttpResponseTest {
  private static final byte[] TWO_MIB = new byte[2 << 20];
  private static final byte[] BINARY = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xFF};

  private CountingHttpServer server;
  private final HttpHandler handler = new HttpHandler();

  @BeforeEach
  void start() throws Exception {
    Arrays.fill(TWO_MIB, (byte) 'a');
    server =
        new CountingHttpServer(
            path ->
                switch (path) {
                  case "/big" -> CountingHttpServer.response(200, "text/plain", TWO_MIB);
                  case "/big-unframed" -> CountingHttpServer.unframed(200, TWO_MIB);
                  case "/binary" -> CountingHttpServer.response(200, "image/png", BINARY);
                  case "/bad-utf8" ->
                      CountingHttpServer.response(
                          200, "text/plain", new byte[] {'a', (byte) 0xC3, '(', 'b'});
                  case "/nul-text" ->
                      CountingHttpServer.response(
                          200, null, "a\0b".getBytes(StandardCharsets.UTF_8));
                  case "/nul-json" ->
                      CountingHttpServer.response(
                          200,
                          "application/json",
                          "{\"a\":\"x\\u0000y\"}".getBytes(StandardCharsets.UTF_8));
                  case "/text" ->
                      CountingHttpServer.response(
                          200, "text/plain", "héllo wörld".getBytes(StandardCharsets.UTF_8));
                  case "/almost-json" ->
                      CountingHttpServer.response(
                          200, "text/plain", "true story".getBytes(StandardCharsets.UTF_8));
                  case "/json" ->
                      CountingHttpServer.response(
                          200,
                          "application/json",
                          "{\"n\":[1,2]}".getBytes(StandardCharsets.UTF_8));
                  case "/empty" -> CountingHttpServer.response(204, null, new byte[0]);
                  default -> CountingHttpServer.response(404, null, new byte[0]);
                });
  }

  @AfterEach
  void stop() throws Exception {
    handler.close();
    server.close();
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

  private JsonNode success(String path) throws Exception {
    JobResult r = call("{\"url\":\"" + server.base() + path + "\"}");
    assertThat(r).isInstanceOf(JobResult.Success.class);
    return ((JobResult.Success) r).result();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/big", "/big-unframed"})
  void bodyOverTheCap_isNotRetryable_andNamesTheSetting(String path) throws Exception {
    JobResult r = call("{\"url\":\"" + server.base() + path + "\"}");
    assertThat(r).isInstanceOf(JobResult.Fail.class);
    assertThat(((JobResult.Fail) r).error())
        .contains("http.max.response.bytes")
        .contains("1048576");
  }

  @Test
  void cap_isConfigurable() throws Exception {
    try (HttpHandler small =
        new HttpHandler(
            HttpSettings.from(FerryConfig.defaults().with(Setting.HTTP_MAX_RESPONSE_BYTES, "8")))) {
      JobResult r =
          small.handle(
              new JobContext(
                  UUID.randomUUID(),
                  1,
                  "http",
                  FerryJson.parse("{\"url\":\"" + server.base() + "/text\"}"),
                  null,
                  Instant.now().plusSeconds(30)));
      assertThat(((JobResult.Fail) r).error()).contains("http.max.response.bytes (8)");
      JobResult ok =
          small.handle(
              new JobContext(
                  UUID.randomUUID(),
                  1,
                  "http",
                  FerryJson.parse("{\"url\":\"" + server.base() + "/binary\"}"),
                  null,
                  Instant.now().plusSeconds(30)));
      assertThat(ok).isInstanceOf(JobResult.Success.class);
    }
  }

  @Test
  void binaryBody_isBase64WithItsContentType() throws Exception {
    JsonNode r = success("/binary");
    assertThat(r.path("status").asInt()).isEqualTo(200);
    assertThat(r.path("contentType").asText()).isEqualTo("image/png");
    assertThat(Base64.getDecoder().decode(r.path("bodyBase64").asText())).isEqualTo(BINARY);
    assertThat(r.has("body")).isFalse();
  }

  @Test
  void invalidUtf8_nulText_andJsonWithNul_areBase64() throws Exception {
    assertThat(success("/bad-utf8").has("bodyBase64")).isTrue();
    JsonNode nul = success("/nul-text");
    assertThat(nul.path("contentType").asText()).isEqualTo("application/octet-stream");
    assertThat(Base64.getDecoder().decode(nul.path("bodyBase64").asText()))
        .isEqualTo("a\0b".getBytes(StandardCharsets.UTF_8));
    assertThat(success("/nul-json").has("bodyBase64")).isTrue();
  }

  @Test
  void textAndJson_stayAsToday() throws Exception {
    assertThat(success("/text").path("body").asText()).isEqualTo("héllo wörld");
    assertThat(success("/almost-json").path("body").asText()).isEqualTo("true story");
    assertThat(success("/json").path("body").path("n").get(1).asInt()).isEqualTo(2);
    assertThat(success("/empty").path("body").isNull()).isTrue();
    assertThat(success("/empty").path("status").asInt()).isEqualTo(204);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"url\":\"ftp://x/y\"}",
        "{}",
        "{\"url\":42}",
        "{\"url\":\"http://\"}",
        "{\"url\":\"http://a b/\"}",
        "{\"url\":\"http://user:pw@127.0.0.1/\"}",
        "{\"url\":\"BASE/json\",\"method\":\"BREW\"}",
        "{\"url\":\"BASE/json\",\"method\":\"GET\\r\\nX: 1\"}",
        "{\"url\":\"BASE/json\",\"method\":7}",
        "{\"url\":\"BASE/json\",\"headers\":[\"X-A\"]}",
        "{\"url\":\"BASE/json\",\"headers\":\"X-A: 1\"}",
        "{\"url\":\"BASE/json\",\"headers\":{\"Bad Name\":\"v\"}}",
        "{\"url\":\"BASE/json\",\"headers\":{\"X-A\":\"v\\r\\nX-Injected: 1\"}}",
        "{\"url\":\"BASE/json\",\"headers\":{\"X-A\":{\"nested\":1}}}",
        "{\"url\":\"BASE/json\",\"headers\":{\"Content-Length\":\"5\"}}",
        "{\"url\":\"BASE/json\",\"headers\":{\"Host\":\"evil\"}}",
        "{\"url\":\"BASE/json\",\"timeoutMs\":-1}",
        "{\"url\":\"BASE/json\",\"timeoutMs\":\"soon\"}",
        "{\"url\":\"BASE/json\",\"timeoutMs\":1.5}",
      })
  void badArguments_areNotRetryable_andMakeNoConnection(String payload) throws Exception {
    JobResult r = call(payload.replace("BASE", server.base()));
    assertThat(r).isInstanceOf(JobResult.Fail.class);
    assertThat(((JobResult.Fail) r).error()).doesNotContain("\r").doesNotContain("\n");
    assertThat(server.connections.get()).isZero();
  }

  @Test
  void echoedInput_isCapped() throws Exception {
    String longUrl = "ftp://" + "x".repeat(5000);
    String error = ((JobResult.Fail) call("{\"url\":\"" + longUrl + "\"}")).error();
    assertThat(error.length()).isLessThan(400);
  }

  @Test
  void handlersDisabled_removesTheBuiltIn() {
    HandlerRegistry r =
        HandlerRegistry.load(
            FerryConfig.defaults().with(Setting.HANDLERS_DISABLED, "http, sleep"),
            java.util.List.of());
    assertThat(r.get("http")).isNull();
    assertThat(r.get("sleep")).isNull();
    assertThat(r.types()).containsExactly("echo", "noop");
    r.close();
    try (HandlerRegistry all = HandlerRegistry.load(FerryConfig.defaults(), java.util.List.of())) {
      assertThat(all.types()).containsExactly("echo", "http", "noop", "sleep");
    }
    Assertions.assertThatThrownBy(
            () ->
                HandlerRegistry.load(
                    FerryConfig.defaults().with(Setting.HANDLERS_DISABLED, "htp"),
                    java.util.List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("handlers.disabled")
        .hasMessageContaining("htp");
  }
}
