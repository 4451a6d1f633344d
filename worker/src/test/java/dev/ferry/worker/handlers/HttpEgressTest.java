package dev.ferry.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The http handler's egress checks against real sockets: a blocked destination gets no connection
 * at all (counted by the server), every redirect hop is checked, and the call ends non-retryable.
 */
class HttpEgressTest {
  private CountingHttpServer server;
  private CountingHttpServer other;
  private HttpHandler handler;

  @BeforeEach
  void start() throws Exception {
    other =
        new CountingHttpServer(
            path ->
                CountingHttpServer.response(
                    200, "application/json", "{\"other\":true}".getBytes(StandardCharsets.UTF_8)));
    server =
        new CountingHttpServer(
            path ->
                switch (path) {
                  case "/to-metadata" ->
                      CountingHttpServer.response(
                          302,
                          null,
                          new byte[0],
                          "Location: http://169.254.169.254/latest/meta-data/");
                  case "/to-other" ->
                      CountingHttpServer.response(
                          302,
                          null,
                          new byte[0],
                          "Location: http://127.0.0.1:" + other.port() + "/x");
                  case "/to-localhost-other" ->
                      CountingHttpServer.response(
                          307,
                          null,
                          new byte[0],
                          "Location: http://localhost:" + other.port() + "/x");
                  default ->
                      CountingHttpServer.response(
                          200,
                          "application/json",
                          "{\"ok\":true}".getBytes(StandardCharsets.UTF_8));
                });
  }

  @AfterEach
  void stop() throws Exception {
    if (handler != null) {
      handler.close();
    }
    server.close();
    other.close();
  }

  private HttpHandler handler(String allow, String deny, boolean follow) {
    FerryConfig c =
        FerryConfig.defaults()
            .with(Setting.HTTP_ALLOW, allow)
            .with(Setting.HTTP_DENY, deny)
            .with(Setting.HTTP_FOLLOW_REDIRECTS, String.valueOf(follow));
    handler = new HttpHandler(HttpSettings.from(c));
    return handler;
  }

  private static JobResult call(HttpHandler h, String url) throws Exception {
    return h.handle(
        new JobContext(
            UUID.randomUUID(),
            1,
            "http",
            FerryJson.parse("{\"url\":\"" + url + "\"}"),
            null,
            Instant.now().plusSeconds(30)));
  }

  private static String failure(JobResult r) {
    assertThat(r).isInstanceOf(JobResult.Fail.class);
    return ((JobResult.Fail) r).error();
  }

  @Test
  void allowedCall_connectsOnce() throws Exception {
    JobResult r = call(handler("", "10.0.0.0/8", true), server.base() + "/x");
    assertThat(r).isInstanceOf(JobResult.Success.class);
    assertThat(server.connections.get()).isEqualTo(1);
  }

  @Test
  void deniedIpLiteral_makesNoConnection_andIsNotRetryable() throws Exception {
    JobResult r = call(handler("", "127.0.0.1", true), server.base() + "/x");
    assertThat(failure(r)).startsWith("blocked by http.deny").contains("127.0.0.1");
    assertThat(server.connections.get()).isZero();
  }

  @Test
  void deniedName_isCheckedByTheAddressItResolvesTo() throws Exception {
    JobResult r =
        call(handler("", "127.0.0.0/8, ::1", true), "http://localhost:" + server.port() + "/x");
    assertThat(failure(r)).startsWith("blocked by http.deny").contains("localhost");
    assertThat(server.connections.get()).isZero();
  }

  @Test
  void deniedHostPort_blocksOnlyThatPort() throws Exception {
    HttpHandler h = handler("", "127.0.0.1:" + server.port(), true);
    assertThat(failure(call(h, server.base() + "/x"))).startsWith("blocked by http.deny");
    assertThat(call(h, other.base() + "/x")).isInstanceOf(JobResult.Success.class);
    assertThat(server.connections.get()).isZero();
    assertThat(other.connections.get()).isEqualTo(1);
  }

  @Test
  void notInAllowList_makesNoConnection() throws Exception {
    HttpHandler h = handler("api.example.com, 127.0.0.1:" + other.port(), "", true);
    assertThat(failure(call(h, server.base() + "/x"))).startsWith("blocked by http.allow");
    assertThat(server.connections.get()).isZero();
    assertThat(call(h, other.base() + "/x")).isInstanceOf(JobResult.Success.class);
  }

  @Test
  void metadataAddress_isDeniedByDefault_withoutAConnectAttempt() throws Exception {
    HttpHandler h = new HttpHandler();
    handler = h;
    long t0 = System.nanoTime();
    // A connect attempt would time out after 5 s (or fail at once) and be retryable.
    assertThat(failure(call(h, "http://169.254.169.254/latest/meta-data/")))
        .startsWith("blocked by http.deny")
        .contains("169.254.0.0/16");
    assertThat(failure(call(h, "http://[fd00:ec2::254]/latest/meta-data/")))
        .startsWith("blocked by http.deny");
    assertThat(failure(call(h, "http://[fe80::1]:8080/"))).startsWith("blocked by http.deny");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void redirectToMetadata_isBlocked() throws Exception {
    JobResult r = call(handler("", "", true), server.base() + "/to-metadata");
    assertThat(failure(r)).startsWith("blocked by http.deny").contains("169.254.169.254");
    assertThat(server.connections.get()).isEqualTo(1);
  }

  @Test
  void redirectToADeniedServer_isCheckedOnThatHop_andNeverConnects() throws Exception {
    HttpHandler h = handler("", "127.0.0.1:" + other.port() + ", [::1]:" + other.port(), true);
    assertThat(failure(call(h, server.base() + "/to-other"))).startsWith("blocked by http.deny");
    assertThat(failure(call(h, server.base() + "/to-localhost-other")))
        .startsWith("blocked by http.deny");
    assertThat(server.connections.get()).isEqualTo(2);
    assertThat(other.connections.get()).isZero();
  }

  @Test
  void redirectToAnAllowedServer_isFollowed() throws Exception {
    JobResult r = call(handler("", "", true), server.base() + "/to-other");
    assertThat(r).isInstanceOf(JobResult.Success.class);
    assertThat(((JobResult.Success) r).result().path("body").path("other").asBoolean()).isTrue();
    assertThat(other.connections.get()).isEqualTo(1);
  }

  @Test
  void redirectsOff_endsWithTheRedirectStatus() throws Exception {
    JobResult r = call(handler("", "", false), server.base() + "/to-other");
    assertThat(failure(r)).startsWith("http 302 from");
    assertThat(other.connections.get()).isZero();
  }
}
