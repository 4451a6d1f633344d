package dev.ferry.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
}
