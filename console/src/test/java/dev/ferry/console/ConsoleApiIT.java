package dev.ferry.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The console's read API on a real PostgreSQL holding Ferry's schema. */
@ExtendWith(FerryExtension.class)
class ConsoleApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private record Reply(int status, JsonNode body) {}

  private static Reply get(ConsoleServer s, String path) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("application/json"));
    return new Reply(r.statusCode(), JSON.readTree(r.body()));
  }

  private static UUID insert(
      FerryTestEnv env,
      String type,
      String status,
      String error,
      Instant created,
      UUID parent,
      String payload)
      throws Exception {
    UUID id = UUID.randomUUID();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ferry.jobs (id, parent_id, type, status, max_attempts, timeout_ms,"
                    + " last_error, created_at, payload)"
                    + " VALUES (?, ?, ?, ?, 5, 30000, ?, ?, ?::jsonb)")) {
      ps.setObject(1, id);
      ps.setObject(2, parent);
      ps.setString(3, type);
      ps.setString(4, status);
      ps.setString(5, error);
      ps.setTimestamp(6, java.sql.Timestamp.from(created));
      ps.setString(7, payload);
      ps.executeUpdate();
    }
    return id;
  }

  static ConsoleServer start(FerryTestEnv env) {
    return ConsoleServer.start(env.dataSource(), env.config().with(Setting.CONSOLE_PORT, "0"));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void jobsPageThroughEveryRowOnceWithTheCursor_andFilter(FerryTestEnv env) throws Exception {
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    Set<UUID> all = new HashSet<>();
    for (int i = 0; i < 120; i++) {
      // Pairs share a creation time: the cursor must order by id too.
      all.add(
          insert(
              env,
              i % 3 == 0 ? "http" : "noop",
              i % 4 == 0 ? "FAILED" : "SUCCEEDED",
              i % 4 == 0 ? "http 503 from 50%_off" : null,
              t0.plusSeconds(i / 2),
              null,
              "{}"));
    }
    try (ConsoleServer s = start(env)) {
      Set<UUID> seen = new HashSet<>();
      List<Instant> order = new ArrayList<>();
      String cursor = null;
      int pages = 0;
      do {
        Reply r = get(s, "/api/jobs" + (cursor == null ? "" : "?after=" + cursor));
        assertThat(r.status()).isEqualTo(200);
        for (JsonNode j : r.body().get("jobs")) {
          assertThat(seen.add(UUID.fromString(j.get("id").asText()))).isTrue();
          order.add(Instant.parse(j.get("createdAt").asText()));
        }
        cursor = r.body().get("next").isNull() ? null : r.body().get("next").asText();
        pages++;
      } while (cursor != null);
      assertThat(seen).isEqualTo(all);
      assertThat(pages).isEqualTo(3);
      assertThat(order).isSortedAccordingTo(Comparator.reverseOrder());

      Reply failedHttp = get(s, "/api/jobs?status=FAILED&type=http");
      assertThat(failedHttp.body().get("jobs"))
          .hasSize(10) // i % 12 == 0 of 120
          .allSatisfy(j -> assertThat(j.get("status").asText()).isEqualTo("FAILED"));
      assertThat(get(s, "/api/jobs?q=" + enc("50%_off")).body().get("jobs")).hasSize(30);
      // % and _ are literal, not wildcards
      assertThat(get(s, "/api/jobs?q=" + enc("5_%")).body().get("jobs")).isEmpty();
      assertThat(
              get(s, "/api/jobs?from=2026-01-01T00:00:50Z&to=2026-01-01T00:00:55Z")
                  .body()
                  .get("jobs"))
          .hasSize(10);

      Reply stats = get(s, "/api/stats");
      assertThat(stats.body().at("/byStatus/FAILED").asLong()).isEqualTo(30);
      assertThat(stats.body().at("/byStatus/SUCCEEDED").asLong()).isEqualTo(90);
      assertThat(stats.body().at("/byType/http/FAILED").asLong()).isEqualTo(10);
    }
  }

  @Test
  void badFiltersAreNamedWith400_anUnknownJobIs404(FerryTestEnv env) throws Exception {
    try (ConsoleServer s = start(env)) {
      Reply status = get(s, "/api/jobs?status=BOGUS");
      assertThat(status.status()).isEqualTo(400);
      assertThat(status.body().get("error").asText()).contains("'status' must be one of");
      assertThat(get(s, "/api/jobs?after=garbage").body().get("error").asText())
          .contains("'after' is not a cursor");
      assertThat(get(s, "/api/jobs?from=yesterday").status()).isEqualTo(400);
      assertThat(get(s, "/api/jobs/not-a-uuid").status()).isEqualTo(400);
      assertThat(get(s, "/api/nothing-here").status()).isEqualTo(404);
      assertThat(get(s, "/api/jobs/" + UUID.randomUUID()).status()).isEqualTo(404);
    }
  }

  @Test
  void jobDetail_hasPayloadAsJsonAndChildrenCounts(FerryTestEnv env) throws Exception {
    UUID parent = insert(env, null, "WAITING_CHILDREN", null, Instant.now(), null, "{}");
    insert(env, "noop", "SUCCEEDED", null, Instant.now(), parent, "{}");
    insert(env, "noop", "FAILED", "boom", Instant.now(), parent, "{}");
    insert(env, "noop", "RUNNING", null, Instant.now(), parent, "{}");
    UUID evil =
        insert(
            env,
            "echo",
            "SUCCEEDED",
            null,
            Instant.now(),
            null,
            "{\"html\":\"<script>alert(1)</script>\"}");
    try (ConsoleServer s = start(env)) {
      JsonNode p = get(s, "/api/jobs/" + parent).body();
      assertThat(p.get("status").asText()).isEqualTo("WAITING_CHILDREN");
      assertThat(p.at("/children/total").asLong()).isEqualTo(3);
      assertThat(p.at("/children/done").asLong()).isEqualTo(2);
      assertThat(p.at("/children/failed").asLong()).isEqualTo(1);
      assertThat(p.get("attempts").isArray()).isTrue();
      JsonNode e = get(s, "/api/jobs/" + evil).body();
      assertThat(e.at("/payload/html").asText()).isEqualTo("<script>alert(1)</script>");
      assertThat(e.has("children")).isFalse();
    }
  }

  /** A job with flow-control fields, due now; {@code key} null for a job without one. */
  private static UUID insertFlow(
      FerryTestEnv env, String status, String dependency, String key, int priority, Instant created)
      throws Exception {
    UUID id = UUID.randomUUID();
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ferry.jobs (id, type, dependency, status, max_attempts, timeout_ms,"
                    + " created_at, priority, concurrency_key, concurrency_limit)"
                    + " VALUES (?, 'flow', ?, ?, 5, 30000, ?, ?, ?, ?)")) {
      ps.setObject(1, id);
      ps.setString(2, dependency);
      ps.setString(3, status);
      ps.setTimestamp(4, java.sql.Timestamp.from(created));
      ps.setInt(5, priority);
      ps.setString(6, key);
      ps.setObject(7, key == null ? null : 1, java.sql.Types.INTEGER);
      ps.executeUpdate();
    }
    return id;
  }

  @Test
  void jobsSayWhyTheyWait_andTheDetailHasPriorityAndConcurrency(FerryTestEnv env) throws Exception {
    Instant now = Instant.now();
    UUID holder = insertFlow(env, "QUEUED", null, "tenant-42", 3, now.minusSeconds(3));
    UUID keyFull = insertFlow(env, "PENDING", null, "tenant-42", 2, now.minusSeconds(2));
    UUID breakerOpen = insertFlow(env, "PENDING", "pay-api", null, 3, now.minusSeconds(1));
    insertFlow(env, "QUEUED", null, "<b>k</b>", 3, now.minusSeconds(1));
    UUID hostile = insertFlow(env, "PENDING", null, "<b>k</b>", 3, now);
    UUID done = insert(env, "noop", "SUCCEEDED", null, now, null, "{}");
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ferry.circuit_breakers (dependency, state, opened_at, retry_at)"
                    + " VALUES ('pay-api', 'OPEN', now(), now() + interval '1 hour')")) {
      ps.executeUpdate();
    }
    try (ConsoleServer s = start(env)) {
      java.util.Map<UUID, JsonNode> listed = new java.util.HashMap<>();
      for (JsonNode j : get(s, "/api/jobs").body().get("jobs")) {
        listed.put(UUID.fromString(j.get("id").asText()), j);
      }
      assertThat(listed.get(keyFull).get("waitingFor").asText())
          .isEqualTo("key tenant-42: 1 of 1 slots in use");
      assertThat(listed.get(breakerOpen).get("waitingFor").asText())
          .startsWith("breaker of pay-api is OPEN until ");
      assertThat(listed.get(holder).get("waitingFor").isNull()).as("queued, no rate").isTrue();
      assertThat(listed.get(done).has("waitingFor")).isTrue();
      assertThat(listed.get(done).get("waitingFor").isNull()).isTrue();

      JsonNode keyed = get(s, "/api/jobs/" + keyFull).body();
      assertThat(keyed.get("waitingFor").asText()).isEqualTo("key tenant-42: 1 of 1 slots in use");
      assertThat(keyed.get("priority").asInt()).isEqualTo(2);
      assertThat(keyed.get("concurrencyKey").asText()).isEqualTo("tenant-42");
      assertThat(keyed.get("concurrencyLimit").asInt()).isEqualTo(1);
      assertThat(keyed.has("flow")).as("flat fields, no nested object").isFalse();
      JsonNode breaker = get(s, "/api/jobs/" + breakerOpen).body();
      assertThat(breaker.get("waitingFor").asText()).startsWith("breaker of pay-api is OPEN");
      assertThat(breaker.get("priority").asInt()).isEqualTo(3);
      assertThat(breaker.get("concurrencyKey").isNull()).isTrue();
      assertThat(breaker.get("concurrencyLimit").isNull()).isTrue();
      JsonNode finished = get(s, "/api/jobs/" + done).body();
      assertThat(finished.has("waitingFor")).isTrue();
      assertThat(finished.get("waitingFor").isNull()).isTrue();

      String list = send(request(s, "/jobs")).body();
      assertThat(list)
          .contains("<small class=\"waiting\">key tenant-42: 1 of 1 slots in use</small>")
          .contains("<small class=\"waiting\">breaker of pay-api is OPEN until ")
          .contains("key &lt;b&gt;k&lt;/b&gt;: 1 of 1 slots in use")
          .doesNotContain("<b>k");
      String page = send(request(s, "/jobs/" + keyFull)).body();
      assertThat(page)
          .contains("<dd id=\"waiting-for\">key tenant-42: 1 of 1 slots in use</dd>")
          .contains("<dd id=\"priority\">2</dd>")
          .contains("<dd id=\"concurrency\">key tenant-42, limit 1</dd>");
      assertThat(send(request(s, "/jobs/" + breakerOpen)).body())
          .contains("<dd id=\"priority\">3 (default)</dd>")
          .doesNotContain("id=\"concurrency\"");
      assertThat(send(request(s, "/jobs/" + done)).body()).doesNotContain("Waiting for");
      assertThat(send(request(s, "/jobs/" + hostile)).body())
          .contains("key &lt;b&gt;k&lt;/b&gt;, limit 1")
          .doesNotContain("<b>k");
    }
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder request(ConsoleServer s, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
  }

  private static HttpRequest.Builder post(ConsoleServer s, String path, String json) {
    return request(s, path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
  }

  private static String status(FerryTestEnv env, UUID id) throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT status FROM ferry.jobs WHERE id = ?")) {
      ps.setObject(1, id);
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  @Test
  void bulkActionsTouchExactlyTheFilter_andCountItFirst(FerryTestEnv env) throws Exception {
    Instant now = Instant.now();
    List<UUID> target = new ArrayList<>();
    List<UUID> others = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      target.add(insert(env, "bulk-a", "PENDING", null, now, null, "{}"));
      others.add(insert(env, "bulk-b", "PENDING", null, now, null, "{}"));
    }
    others.add(insert(env, "bulk-a", "SUCCEEDED", null, now, null, "{}"));
    List<UUID> failed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      failed.add(insert(env, "bulk-a", "FAILED", "timeout calling x", now, null, "{}"));
    }
    try (ConsoleServer s = start(env)) {
      JsonNode count = JSON.readTree(send(request(s, "/api/jobs/count?type=bulk-a")).body());
      assertThat(count.get("cancellable").asLong()).isEqualTo(7);
      assertThat(count.get("retryable").asLong()).isEqualTo(3);

      HttpResponse<String> none = send(post(s, "/api/jobs/cancel", "{}"));
      assertThat(none.statusCode()).as("no filter: never every job").isEqualTo(400);
      HttpResponse<String> typo = send(post(s, "/api/jobs/cancel", "{\"tpye\":\"bulk-a\"}"));
      assertThat(typo.statusCode()).as("a misspelt filter").isEqualTo(400);
      assertThat(typo.body()).contains("unknown field 'tpye'");
      assertThat(send(post(s, "/api/jobs/cancel", "{\"type\":7}")).statusCode()).isEqualTo(400);
      assertThat(send(post(s, "/api/jobs/" + UUID.randomUUID() + "/cancel", "{}")).statusCode())
          .isEqualTo(404);

      HttpResponse<String> cancel = send(post(s, "/api/jobs/cancel", "{\"type\":\"bulk-a\"}"));
      assertThat(cancel.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(cancel.body()).get("changed").asInt()).isEqualTo(7);
      for (UUID id : target) {
        assertThat(status(env, id)).isEqualTo("CANCELLED");
      }
      assertThat(status(env, others.get(0))).isEqualTo("PENDING");
      assertThat(status(env, others.get(7))).isEqualTo("SUCCEEDED");

      HttpResponse<String> retry =
          send(post(s, "/api/jobs/retry", "{\"type\":\"bulk-a\",\"q\":\"timeout\"}"));
      assertThat(JSON.readTree(retry.body()).get("changed").asInt()).isEqualTo(3);
      for (UUID id : failed) {
        assertThat(status(env, id)).isEqualTo("PENDING");
      }
      assertThat(status(env, target.get(0)))
          .as("cancelled, no matching error")
          .isEqualTo("CANCELLED");

      HttpResponse<String> again = send(post(s, "/api/jobs/" + failed.get(0) + "/retry", "{}"));
      assertThat(again.statusCode()).as("PENDING cannot be retried").isEqualTo(409);
      assertThat(JSON.readTree(again.body()).get("error").asText()).contains("not FAILED");
      HttpResponse<String> one = send(post(s, "/api/jobs/" + failed.get(0) + "/cancel", "{}"));
      assertThat(one.statusCode()).isEqualTo(200);
      assertThat(status(env, failed.get(0))).isEqualTo("CANCELLED");
    }
  }

  @Test
  void breakerCommands_changeTheSharedBreaker(FerryTestEnv env) throws Exception {
    try (ConsoleServer s = start(env)) {
      HttpResponse<String> open = send(post(s, "/api/breakers/pay-api/open", "{}"));
      assertThat(open.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(open.body()).get("state").asText()).isEqualTo("OPEN");
      JsonNode list = JSON.readTree(send(request(s, "/api/breakers")).body()).get("breakers");
      assertThat(list).hasSize(1);
      assertThat(list.get(0).get("dependency").asText()).isEqualTo("pay-api");
      assertThat(list.get(0).get("forced").asText()).isEqualTo("OPEN");
      send(post(s, "/api/breakers/pay-api/close", "{}"));
      assertThat(
              JSON.readTree(send(request(s, "/api/breakers")).body())
                  .at("/breakers/0/state")
                  .asText())
          .isEqualTo("CLOSED");
      send(post(s, "/api/breakers/pay-api/reset", "{}"));
      JsonNode reset = JSON.readTree(send(request(s, "/api/breakers")).body()).at("/breakers/0");
      assertThat(reset.get("forced").isNull()).isTrue();
      assertThat(send(post(s, "/api/breakers/pay-api/explode", "{}")).statusCode()).isEqualTo(400);
    }
  }

  @Test
  void postsThatAFormOrAnotherOriginCouldSend_areRefused(FerryTestEnv env) throws Exception {
    UUID id = insert(env, "guarded", "PENDING", null, Instant.now(), null, "{}");
    try (ConsoleServer s = start(env)) {
      String path = "/api/jobs/" + id + "/cancel";
      for (String type :
          List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")) {
        HttpResponse<String> r =
            send(
                request(s, path)
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(r.statusCode()).as(type).isEqualTo(415);
      }
      assertThat(send(post(s, path, "{}").header("Origin", "http://127.0.0.1:1")).statusCode())
          .isEqualTo(403);
      assertThat(send(post(s, path, "{}").header("Origin", "http://evil.example")).statusCode())
          .isEqualTo(403);
      assertThat(send(post(s, path, "{}").header("Sec-Fetch-Site", "cross-site")).statusCode())
          .isEqualTo(403);
      assertThat(status(env, id)).isEqualTo("PENDING");
      // What the console's own page sends.
      HttpResponse<String> same =
          send(post(s, path, "{}").header("Origin", "http://127.0.0.1:" + s.port()));
      assertThat(same.statusCode()).isEqualTo(200);
      assertThat(status(env, id)).isEqualTo("CANCELLED");
    }
  }

  @Test
  void aRequestForAnotherHostName_isRefusedWithoutAuth(FerryTestEnv env) throws Exception {
    // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
    try (ConsoleServer s = start(env);
        java.net.Socket socket = new java.net.Socket("127.0.0.1", s.port())) {
      socket
          .getOutputStream()
          .write(
              ("GET /api/stats HTTP/1.1\r\nHost: evil.example:"
                      + s.port()
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(reply).startsWith("HTTP/1.1 403").contains("localhost only");
    }
  }

  @Test
  void withAToken_theApiNeedsIt_pagesNeedASignIn_andReadonlyRemovesActions(FerryTestEnv env)
      throws Exception {
    UUID id = insert(env, "authed", "PENDING", null, Instant.now(), null, "{}");
    FerryConfig config =
        env.config()
            .with(Setting.CONSOLE_PORT, "0")
            .with(Setting.CONSOLE_HOST, "0.0.0.0")
            .with(Setting.CONSOLE_AUTH_TOKEN, "s3cret-token");
    try (ConsoleServer s = ConsoleServer.start(env.dataSource(), config)) {
      HttpResponse<String> anon = send(request(s, "/api/jobs"));
      assertThat(anon.statusCode()).isEqualTo(401);
      assertThat(anon.headers().firstValue("WWW-Authenticate"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      assertThat(send(request(s, "/api/jobs").header("Authorization", "Bearer wrong")).statusCode())
          .isEqualTo(401);
      assertThat(
              send(request(s, "/api/jobs").header("Authorization", "Bearer s3cret-token"))
                  .statusCode())
          .isEqualTo(200);
      assertThat(send(post(s, "/api/jobs/" + id + "/cancel", "{}")).statusCode()).isEqualTo(401);
      HttpResponse<String> page = send(request(s, "/jobs?status=FAILED"));
      assertThat(page.statusCode()).isEqualTo(302);
      assertThat(page.headers().firstValue("Location"))
          .hasValue("/login?next=%2Fjobs%3Fstatus%3DFAILED");

      HttpResponse<String> badLogin =
          send(
              request(s, "/login")
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString("token=nope&next=%2F")));
      assertThat(badLogin.statusCode()).isEqualTo(401);
      assertThat(badLogin.headers().firstValue("Set-Cookie")).isEmpty();
      HttpResponse<String> login =
          send(
              request(s, "/login")
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString("token=s3cret-token&next=%2Fjobs")));
      assertThat(login.statusCode()).isEqualTo(302);
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
      assertThat(cookie).contains("HttpOnly").containsIgnoringCase("SameSite=Strict");
      String session = cookie.substring(0, cookie.indexOf(';'));
      HttpResponse<String> jobs = send(request(s, "/jobs").header("Cookie", session));
      assertThat(jobs.statusCode()).isEqualTo(200);
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("name=\"ferry-csrf\" content=\"([^\"]+)\"")
              .matcher(jobs.body());
      assertThat(m.find()).isTrue();
      String path = "/api/jobs/" + id + "/cancel";
      assertThat(send(post(s, path, "{}").header("Cookie", session)).statusCode())
          .as("a session without the CSRF header")
          .isEqualTo(403);
      assertThat(
              send(post(s, path, "{}").header("Cookie", session).header("X-Ferry-Csrf", m.group(1)))
                  .statusCode())
          .isEqualTo(200);
      assertThat(status(env, id)).isEqualTo("CANCELLED");
    }

    assertThatThrownBy(
            () ->
                ConsoleServer.start(
                    env.dataSource(),
                    env.config()
                        .with(Setting.CONSOLE_PORT, "0")
                        .with(Setting.CONSOLE_HOST, "0.0.0.0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("without authentication");

    UUID other = insert(env, "ro", "PENDING", null, Instant.now(), null, "{}");
    try (ConsoleServer s =
        ConsoleServer.start(
            env.dataSource(),
            env.config().with(Setting.CONSOLE_PORT, "0").with(Setting.CONSOLE_READONLY, "true"))) {
      HttpResponse<String> r = send(post(s, "/api/jobs/" + other + "/cancel", "{}"));
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("read-only");
      assertThat(status(env, other)).isEqualTo("PENDING");
      HttpResponse<String> detail = send(request(s, "/jobs/" + other));
      assertThat(detail.body()).doesNotContain("data-post");
    }
  }

  @Test
  void jobDataIsEscapedInEveryPage(FerryTestEnv env) throws Exception {
    String evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    String payload = JSON.createObjectNode().put("html", evil).toString();
    UUID id = insert(env, "<b>type</b>", "FAILED", evil, Instant.now(), null, payload);
    try (ConsoleServer s = start(env)) {
      for (String path : List.of("/", "/jobs", "/jobs?q=" + enc("<script>"), "/jobs/" + id)) {
        String body = send(request(s, path)).body();
        assertThat(body)
            .as(path)
            .doesNotContain("<script>alert")
            .doesNotContain("<img src=x")
            .doesNotContain("<b>type");
      }
      assertThat(send(request(s, "/jobs/" + id)).body())
          .contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  }

  @Test
  void aLargeTable_estimatesFinishedCounts_andCountsLiveOnesExactly(FerryTestEnv env)
      throws Exception {
    Instant now = Instant.now();
    for (int i = 0; i < 40; i++) {
      insert(env, "big", "SUCCEEDED", null, now, null, "{}");
    }
    for (int i = 0; i < 10; i++) {
      insert(env, "big", "FAILED", "x", now, null, "{}");
    }
    for (int i = 0; i < 3; i++) {
      insert(env, "big", "PENDING", null, now, null, "{}");
    }
    try (Connection c = env.dataSource().getConnection();
        var st = c.createStatement()) {
      st.execute("ANALYZE ferry.jobs");
    }
    ConsoleQueries small =
        new ConsoleQueries(
            env.dataSource(), Duration.ofSeconds(5), java.time.Clock.systemUTC(), 10);
    Model.Stats estimated = small.stats();
    assertThat(estimated.estimated()).isTrue();
    assertThat(estimated.byStatus().get("PENDING")).isEqualTo(3);
    assertThat(estimated.byStatus().get("SUCCEEDED")).isBetween(38L, 42L);
    assertThat(estimated.byStatus().get("FAILED")).isBetween(8L, 12L);
    assertThat(estimated.byType().get("big")).containsOnlyKeys("PENDING");

    ConsoleQueries exact =
        new ConsoleQueries(env.dataSource(), Duration.ofSeconds(5), java.time.Clock.systemUTC());
    Model.Stats counted = exact.stats();
    assertThat(counted.estimated()).isFalse();
    assertThat(counted.byStatus()).containsEntry("SUCCEEDED", 40L).containsEntry("FAILED", 10L);
    // The overview page says which figures are estimates.
    try (ConsoleServer s = start(env)) {
      assertThat(send(request(s, "/")).body()).doesNotContain("estimated from");
    }
    try (ConsoleServer s =
        ConsoleServer.start(env.dataSource(), env.config().with(Setting.CONSOLE_PORT, "0"), 10)) {
      String page = send(request(s, "/")).body();
      assertThat(page).contains("estimated from PostgreSQL's table statistics");
      assertThat(page).containsPattern("data-status=\"SUCCEEDED\"><abbr[^>]*>≈</abbr> [0-9]+<");
      assertThat(JSON.readTree(send(request(s, "/api/stats")).body()).get("estimated").asBoolean())
          .isTrue();
    }
  }

  private static JsonNode limits(ConsoleServer s) throws Exception {
    HttpResponse<String> r = send(request(s, "/api/limits"));
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body()).get("limits");
  }

  private static void insertActive(FerryTestEnv env, String dependency, String status, int n)
      throws Exception {
    try (Connection c = env.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ferry.jobs (id, type, dependency, status, max_attempts, timeout_ms)"
                    + " VALUES (?, 'limited', ?, ?, 5, 30000)")) {
      for (int i = 0; i < n; i++) {
        ps.setObject(1, UUID.randomUUID());
        ps.setString(2, dependency);
        ps.setString(3, status);
        ps.executeUpdate();
      }
    }
  }

  @Test
  void limits_areSetPartByPart_listed_andCleared(FerryTestEnv env) throws Exception {
    try (ConsoleServer s = start(env)) {
      assertThat(limits(s)).isEmpty();
      HttpResponse<String> set =
          send(post(s, "/api/limits/pay-api", "{\"rate\":\"50/1s\",\"maxConcurrent\":10}"));
      assertThat(set.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(set.body()).get("rate").asText()).isEqualTo("50/1s");
      JsonNode one = limits(s);
      assertThat(one).hasSize(1);
      assertThat(one.get(0).get("dependency").asText()).isEqualTo("pay-api");
      assertThat(one.get(0).get("rate").asText()).isEqualTo("50/1s");
      assertThat(one.get(0).get("maxConcurrent").asInt()).isEqualTo(10);
      Instant updated = Instant.parse(one.get(0).get("updatedAt").asText());
      assertThat(updated).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(60));

      // Absent: stays; null: that limit goes; the other stays.
      send(post(s, "/api/limits/pay-api", "{\"rate\":\"100/500ms\"}"));
      assertThat(limits(s).get(0).get("rate").asText()).isEqualTo("100/500ms");
      assertThat(limits(s).get(0).get("maxConcurrent").asInt()).isEqualTo(10);
      send(post(s, "/api/limits/pay-api", "{\"maxConcurrent\":null}"));
      assertThat(limits(s).get(0).get("rate").asText()).isEqualTo("100/500ms");
      assertThat(limits(s).get(0).get("maxConcurrent").isNull()).isTrue();
      // Removing the last limit removes the dependency from the list.
      HttpResponse<String> none = send(post(s, "/api/limits/pay-api", "{\"rate\":null}"));
      assertThat(none.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(none.body()).get("cleared").asBoolean()).isTrue();
      assertThat(limits(s)).isEmpty();

      // A name with HTML and a slash: one path segment, shown as text.
      String evil = "<b>x/y</b>";
      String path = "/api/limits/" + enc(evil).replace("+", "%20");
      assertThat(send(post(s, path, "{\"maxConcurrent\":2}")).statusCode()).isEqualTo(200);
      send(post(s, "/api/limits/search", "{\"maxConcurrent\":3}"));
      insertActive(env, "search", "QUEUED", 2);
      insertActive(env, "search", "RUNNING", 1);
      insertActive(env, "search", "RETRY_WAIT", 4);
      insertActive(env, "unlimited", "RUNNING", 5);
      assertThat(limits(s)).extracting(l -> l.get("dependency").asText()).contains(evil);
      String page = send(request(s, "/limits")).body();
      assertThat(page).doesNotContain("<b>x").contains("&lt;b&gt;x/y&lt;/b&gt;");
      assertThat(page)
          .containsPattern("(?s)<tr data-dependency=\"search\">.*?<td class=\"active\">3</td>")
          .doesNotContain("unlimited");

      assertThat(send(post(s, path + "/clear", "{}")).statusCode()).isEqualTo(200);
      HttpResponse<String> cleared = send(post(s, "/api/limits/search/clear", "{}"));
      assertThat(cleared.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(cleared.body()).get("cleared").asBoolean()).isTrue();
      assertThat(limits(s)).isEmpty();
      HttpResponse<String> again = send(post(s, "/api/limits/search/clear", "{}"));
      assertThat(again.statusCode()).isEqualTo(404);
      assertThat(again.body()).contains("no limits for dependency search");
    }
  }

  @Test
  void invalidLimits_are400WithTheReason_andChangeNothing(FerryTestEnv env) throws Exception {
    try (ConsoleServer s = start(env)) {
      send(post(s, "/api/limits/pay-api", "{\"rate\":\"50/1s\",\"maxConcurrent\":10}"));
      JsonNode before = limits(s);
      String[][] bad = {
        {"/api/limits/pay-api", "{\"rate\":\"0/0s\"}", "limit must be at least 1 but was 0"},
        {"/api/limits/pay-api", "{\"rate\":\"abc\",\"maxConcurrent\":5}", "not 'abc'"},
        {"/api/limits/pay-api", "{\"rate\":\"\"}", "a rate is <limit>/<period>"},
        {"/api/limits/pay-api", "{\"rate\":\"5/2d\"}", "a rate is <limit>/<period>"},
        {"/api/limits/pay-api", "{\"rate\":\"5/25h\"}", "from 1 ms to 24 h"},
        {"/api/limits/pay-api", "{\"maxConcurrent\":0}", "whole number from 1"},
        {"/api/limits/pay-api", "{\"maxConcurrent\":-1}", "whole number from 1"},
        {"/api/limits/pay-api", "{\"maxConcurrent\":\"ten\"}", "whole number from 1"},
        {"/api/limits/pay-api", "{\"maxConcurrent\":2.5}", "whole number from 1"},
        {"/api/limits/pay-api", "{\"rate\":null,\"max\":1}", "unknown field 'max'"},
        {"/api/limits/pay-api", "{}", "give 'rate' and/or 'maxConcurrent'"},
        {"/api/limits/pay-api", "[1]", "must be a JSON object"},
        {"/api/limits/pay-api", "{nope", "not JSON"},
        {"/api/limits/%20", "{\"maxConcurrent\":1}", "1 to 200 characters, not empty"},
        {"/api/limits/", "{\"maxConcurrent\":1}", "1 to 200 characters, not empty"},
        {"/api/limits/" + "d".repeat(201), "{\"maxConcurrent\":1}", "not 201"},
        {"/api/limits/" + "d".repeat(201) + "/clear", "{}", "not 201"},
      };
      for (String[] b : bad) {
        HttpResponse<String> r = send(post(s, b[0], b[1]));
        assertThat(r.statusCode()).as(b[1]).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).get("error").asText()).as(b[1]).contains(b[2]);
      }
      assertThat(limits(s)).isEqualTo(before);
    }
  }

  @Test
  void limitChanges_thatAFormAnotherOriginOrAReadonlyConsoleSends_areRefused(FerryTestEnv env)
      throws Exception {
    String set = "{\"rate\":\"1/1s\"}";
    try (ConsoleServer s = start(env)) {
      send(post(s, "/api/limits/pay-api", "{\"maxConcurrent\":4}"));
      JsonNode before = limits(s);
      for (String path : List.of("/api/limits/pay-api", "/api/limits/pay-api/clear")) {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded")) {
          HttpResponse<String> r =
              send(
                  request(s, path)
                      .header("Content-Type", type)
                      .POST(HttpRequest.BodyPublishers.ofString(set)));
          assertThat(r.statusCode()).as(path + " " + type).isEqualTo(415);
        }
        assertThat(send(post(s, path, set).header("Origin", "http://evil.example")).statusCode())
            .as(path)
            .isEqualTo(403);
        assertThat(send(post(s, path, set).header("Sec-Fetch-Site", "cross-site")).statusCode())
            .as(path)
            .isEqualTo(403);
        assertThat(send(request(s, path).GET()).statusCode()).as("GET " + path).isIn(404, 405);
      }
      assertThat(limits(s)).isEqualTo(before);
      assertThat(send(request(s, "/limits")).body()).contains("data-limit-form");
    }

    FerryConfig token =
        env.config()
            .with(Setting.CONSOLE_PORT, "0")
            .with(Setting.CONSOLE_AUTH_TOKEN, "limits-token");
    try (ConsoleServer s = ConsoleServer.start(env.dataSource(), token)) {
      assertThat(send(post(s, "/api/limits/pay-api", set)).statusCode()).isEqualTo(401);
      assertThat(
              send(post(s, "/api/limits/pay-api", set)
                      .header("Authorization", "Bearer limits-token"))
                  .statusCode())
          .isEqualTo(200);
    }

    try (ConsoleServer s =
        ConsoleServer.start(
            env.dataSource(),
            env.config().with(Setting.CONSOLE_PORT, "0").with(Setting.CONSOLE_READONLY, "true"))) {
      JsonNode before = limits(s);
      for (String path : List.of("/api/limits/pay-api", "/api/limits/pay-api/clear")) {
        HttpResponse<String> r = send(post(s, path, "{\"rate\":\"9/1s\"}"));
        assertThat(r.statusCode()).as(path).isEqualTo(403);
        assertThat(r.body()).contains("read-only");
      }
      assertThat(limits(s)).isEqualTo(before);
      assertThat(before.get(0).get("rate").asText()).isEqualTo("1/1s");
      String page = send(request(s, "/limits")).body();
      assertThat(page).contains("pay-api").doesNotContain("<form").doesNotContain("data-post");
    }
  }
}
