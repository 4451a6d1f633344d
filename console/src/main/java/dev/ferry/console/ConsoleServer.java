package dev.ferry.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.orchestrator.admin.Selection;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console (DESIGN section 10): server-rendered pages (jte, precompiled), live parts refreshed
 * by htmx, the JSON API under {@code /api}, and the guards of {@link ConsoleSecurity}.
 */
public final class ConsoleServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);

  /** Request attribute: the answer is written already (the 404 handler leaves it alone). */
  private static final String HANDLED = "ferry.handled";

  /** How often live parts refresh. */
  static final int REFRESH_MS = 2000;

  private final Javalin app;
  private final ConsoleActions actions;
  private final String url;

  private ConsoleServer(Javalin app, ConsoleActions actions, String url) {
    this.app = app;
    this.actions = actions;
    this.url = url;
  }

  /**
   * Starts the console with the {@code console.*} settings of {@code config}, reading from {@code
   * db}. A non-loopback {@code console.host} without a token is refused (IllegalArgumentException).
   */
  public static ConsoleServer start(DataSource db, FerryConfig config) {
    return start(db, config, ConsoleQueries.EXACT_COUNT_MAX_ROWS);
  }

  /** As {@link #start(DataSource, FerryConfig)}, estimating counts above {@code exactMaxRows}. */
  static ConsoleServer start(DataSource db, FerryConfig config, long exactMaxRows) {
    String host = config.get(Setting.CONSOLE_HOST);
    int port = config.getInt(Setting.CONSOLE_PORT);
    String token = config.get(Setting.CONSOLE_AUTH_TOKEN);
    ConsoleSecurity security =
        new ConsoleSecurity(token, config.getBoolean(Setting.CONSOLE_READONLY));
    ConsoleSecurity.checkBind(host, security.authOn());
    ConsoleQueries queries =
        new ConsoleQueries(
            db,
            Duration.ofMillis(config.getLong(Setting.RESCUE_AFTER_MS)),
            Clock.systemUTC(),
            exactMaxRows);
    ConsoleActions actions = new ConsoleActions(db, config);
    ConsoleLimits limits = new ConsoleLimits(db);
    Pages pages =
        new Pages(
            TemplateEngine.createPrecompiled(ContentType.Html),
            queries,
            security,
            db,
            actions,
            limits);
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.staticFiles.add(
                  sf -> {
                    sf.hostedPath = "/static";
                    sf.directory = "/console-static";
                    sf.location = Location.CLASSPATH;
                  });
              cfg.staticFiles.enableWebjars();
              cfg.routes.before(
                  ctx -> {
                    ctx.header("X-Content-Type-Options", "nosniff");
                    ctx.header("X-Frame-Options", "DENY");
                    ctx.header("Referrer-Policy", "same-origin");
                    ctx.header(
                        "Content-Security-Policy",
                        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                            + " img-src 'self' data:; frame-ancestors 'none'; base-uri 'none';"
                            + " form-action 'self'");
                    security.before(ctx);
                  });
              routes(cfg.routes, queries, actions, limits, pages, security);
              cfg.routes.exception(
                  ConsoleSecurity.Refused.class,
                  (e, ctx) -> problem(ctx, e.status, e.getMessage(), pages));
              cfg.routes.exception(
                  IllegalStateException.class,
                  (e, ctx) -> problem(ctx, 409, e.getMessage(), pages));
              cfg.routes.exception(
                  IllegalArgumentException.class,
                  (e, ctx) -> problem(ctx, 400, e.getMessage(), pages));
              cfg.routes.exception(
                  Exception.class,
                  (e, ctx) -> {
                    log.warn("Console request {} {} failed", ctx.method(), ctx.path(), e);
                    problem(ctx, 500, "internal error: " + e.getClass().getSimpleName(), pages);
                  });
              cfg.routes.error(
                  404,
                  ctx -> {
                    if (ctx.attribute(HANDLED) == null) {
                      problem(ctx, 404, "no such page: " + ctx.path(), pages);
                    }
                  });
            });
    try {
      app.start(host, port);
    } catch (RuntimeException e) {
      actions.close();
      if (e.getCause() instanceof java.net.BindException
          || e instanceof io.javalin.util.JavalinBindException) {
        throw new ConfigException(
            "the console cannot listen on "
                + host
                + ":"
                + port
                + ": "
                + e.getMessage()
                + " (another process uses the port? set console.port / --port)");
      }
      throw e;
    }
    String url =
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + app.port() + "/";
    log.info(
        "Console at {} ({}{})",
        url,
        security.authOn() ? "sign-in with the token" : "no sign-in: loopback only",
        security.readonly() ? ", read-only" : "");
    return new ConsoleServer(app, actions, url);
  }

  private static void routes(
      io.javalin.config.RoutesConfig r,
      ConsoleQueries queries,
      ConsoleActions actions,
      ConsoleLimits limits,
      Pages pages,
      ConsoleSecurity security) {
    // Pages.
    r.get("/", ctx -> pages.overview(ctx));
    r.get("/fragments/overview", ctx -> pages.overviewLive(ctx));
    r.get("/jobs", ctx -> pages.jobs(ctx));
    r.get("/jobs/confirm", ctx -> pages.confirm(ctx));
    r.get("/jobs/{id}", ctx -> pages.job(ctx, jobId(ctx)));
    r.get("/breakers", ctx -> pages.breakers(ctx, false));
    r.get("/fragments/breakers", ctx -> pages.breakers(ctx, true));
    r.get("/workers", ctx -> pages.workers(ctx, false));
    r.get("/fragments/workers", ctx -> pages.workers(ctx, true));
    r.get("/rejected", ctx -> pages.rejected(ctx));
    r.get("/schedules", ctx -> pages.schedules(ctx));
    r.get("/limits", ctx -> pages.limits(ctx));
    r.get("/login", ctx -> pages.login(ctx, null));
    r.post(
        "/login",
        ctx -> {
          String next = safeNext(ctx.formParam("next"));
          if (security.login(ctx, ctx.formParam("token"))) {
            ctx.redirect(next);
          } else {
            ctx.status(401);
            pages.login(ctx, security.authOn() ? "That is not the console's token." : null);
          }
        });
    r.post(
        "/logout",
        ctx -> {
          security.logout(ctx);
          ctx.redirect("/login");
        });

    // JSON API.
    r.get("/api/stats", ctx -> json(ctx, queries.stats()));
    r.get("/api/overview", ctx -> json(ctx, queries.overview()));
    r.get(
        "/api/jobs",
        ctx -> json(ctx, queries.jobs(JobFilter.parse(ctx::queryParam), ConsoleQueries.PAGE)));
    r.get(
        "/api/jobs/count",
        ctx -> {
          JobFilter f = JobFilter.parse(ctx::queryParam);
          json(ctx, actions.count(f.selection()));
        });
    r.get(
        "/api/jobs/{id}",
        ctx -> {
          UUID id = jobId(ctx);
          Model.JobDetail job = queries.job(id);
          if (job == null) {
            throw new ConsoleSecurity.Refused(404, "no job " + id);
          }
          json(ctx, job);
        });
    r.get("/api/breakers", ctx -> json(ctx, Map.of("breakers", queries.breakers())));
    r.get("/api/schedules", ctx -> json(ctx, Map.of("schedules", actions.list())));
    r.post(
        "/api/schedules/{name}/{command}",
        ctx -> {
          body(ctx);
          String name = ctx.pathParam("name");
          String done = actions.schedule(name, ctx.pathParam("command"));
          if (done == null) {
            throw new ConsoleSecurity.Refused(404, "no schedule " + Fmt.cut(name, 200));
          }
          Map<String, Object> out = new java.util.LinkedHashMap<>();
          out.put("schedule", name);
          out.put("command", ctx.pathParam("command"));
          if (ctx.pathParam("command").equals("trigger")) {
            out.put("job", done);
          }
          json(ctx, out);
        });
    r.get("/api/limits", ctx -> json(ctx, Map.of("limits", limits.list())));
    r.post(
        "/api/limits",
        ctx -> {
          throw new IllegalArgumentException(
              "a dependency name is 1 to "
                  + ConsoleActions.MAX_DEPENDENCY_CHARS
                  + " characters, not empty (POST /api/limits/{dependency})");
        });
    r.post(
        "/api/limits/{dependency}",
        ctx -> {
          String dependency = ConsoleLimits.dependency(ctx.pathParam("dependency"));
          Model.Limit now = limits.set(dependency, ConsoleLimits.Change.fromJson(body(ctx)));
          json(ctx, now != null ? now : cleared(dependency));
        });
    r.post(
        "/api/limits/{dependency}/clear",
        ctx -> {
          body(ctx);
          String dependency = ConsoleLimits.dependency(ctx.pathParam("dependency"));
          if (!limits.clear(dependency)) {
            throw new ConsoleSecurity.Refused(
                404, "no limits for dependency " + Fmt.cut(dependency, 200));
          }
          json(ctx, cleared(dependency));
        });
    r.get("/api/workers", ctx -> json(ctx, Map.of("workers", queries.workers())));
    r.get(
        "/api/rejected",
        ctx -> {
          String before = ctx.queryParam("before");
          Long b;
          try {
            b = before == null || before.isBlank() ? null : Long.parseLong(before.strip());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'before' must be a rejected submission's id");
          }
          json(ctx, queries.rejected(b, ConsoleQueries.PAGE));
        });
    r.post(
        "/api/jobs/retry",
        ctx -> {
          JsonNode body = body(ctx);
          json(ctx, actions.retry(bulk(body), extraAttempts(body)));
        });
    r.post("/api/jobs/cancel", ctx -> json(ctx, actions.cancel(bulk(body(ctx)))));
    r.post(
        "/api/jobs/{id}/retry",
        ctx -> {
          JsonNode body = body(ctx);
          json(ctx, one(actions.retry(byId(ctx), extraAttempts(body)), ctx, queries));
        });
    r.post(
        "/api/jobs/{id}/cancel",
        ctx -> {
          body(ctx);
          json(ctx, one(actions.cancel(byId(ctx)), ctx, queries));
        });
    r.post(
        "/api/breakers/{dependency}/{command}",
        ctx -> {
          JsonNode body = body(ctx);
          Long forMs = body.hasNonNull("forMs") ? body.get("forMs").asLong() : null;
          var b = actions.breaker(ctx.pathParam("dependency"), ctx.pathParam("command"), forMs);
          Map<String, Object> out = new java.util.LinkedHashMap<>();
          out.put("dependency", b.dependency());
          out.put("state", b.state().name());
          out.put("forced", b.forced() == null ? null : b.forced().name());
          out.put("retryAt", b.retryAt());
          out.put("generation", b.generation());
          json(ctx, out);
        });
  }

  /**
   * Fails with a {@link java.sql.SQLException} naming the fix when the database lacks the schema
   * the console reads (migrations up to V13: {@code ferry.dependency_limits} for the Limits page).
   */
  public static void requireSchema(DataSource db) throws java.sql.SQLException {
    try (var c = db.getConnection();
        var st = c.createStatement();
        var rs =
            st.executeQuery(
                "SELECT to_regclass('ferry.job_activity') IS NOT NULL"
                    + " AND to_regclass('ferry.dependency_limits') IS NOT NULL")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        throw new java.sql.SQLException(
            "the database has no (or an older) Ferry schema: run 'ferry migrate' (or start an"
                + " orchestrator) first");
      }
    }
  }

  /** The answer of a change that left {@code dependency} without limits. */
  private static Map<String, Object> cleared(String dependency) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put("dependency", dependency);
    out.put("cleared", true);
    return out;
  }

  /** A single-job action that changed nothing says why (404 no job, 409 not in that state). */
  private static ConsoleActions.Done one(
      ConsoleActions.Done done, Context ctx, ConsoleQueries queries) throws java.sql.SQLException {
    if (done.changed() == 0 && queries.job(jobId(ctx)) == null) {
      throw new ConsoleSecurity.Refused(404, "no job " + jobId(ctx));
    }
    if (done.changed() == 0) {
      throw new ConsoleSecurity.Refused(
          409,
          done.action().equals("retry")
              ? "job "
                  + ctx.pathParam("id")
                  + " is not FAILED or CANCELLED (or is a fan-out parent)"
              : "job " + ctx.pathParam("id") + " is not waiting or running");
    }
    return done;
  }

  private static Selection byId(Context ctx) {
    return new Selection(List.of(jobId(ctx)), null, null);
  }

  /** Fields a bulk action's body may hold: the list filters and, for retry, attempts. */
  private static final java.util.Set<String> BULK_FIELDS =
      java.util.Set.of(
          "status", "type", "dependency", "parent", "key", "q", "from", "to", "attempts");

  private static Selection bulk(JsonNode body) {
    Map<String, String> params = new HashMap<>();
    var fields = body.fields();
    while (fields.hasNext()) {
      var e = fields.next();
      if (!BULK_FIELDS.contains(e.getKey())) {
        // A misspelt filter must not widen the selection.
        throw new IllegalArgumentException(
            "unknown field '" + Fmt.cut(e.getKey(), 60) + "'; a bulk action takes " + BULK_FIELDS);
      }
      if (!e.getKey().equals("attempts")) {
        if (!e.getValue().isTextual()) {
          throw new IllegalArgumentException("'" + e.getKey() + "' must be a string");
        }
        params.put(e.getKey(), e.getValue().asText());
      }
    }
    JobFilter f = JobFilter.parse(params::get);
    if (!f.any()) {
      throw new IllegalArgumentException(
          "a bulk action needs a filter (status, type, dependency, parent, key, q, from, to)");
    }
    return f.selection();
  }

  private static int extraAttempts(JsonNode body) {
    if (!body.has("attempts")) {
      return 1;
    }
    JsonNode a = body.get("attempts");
    if (!a.canConvertToInt() || a.asInt() < 1 || a.asInt() > 10_000) {
      throw new IllegalArgumentException("'attempts' must be a number from 1 to 10000");
    }
    return a.asInt();
  }

  private static JsonNode body(Context ctx) {
    String text = ctx.body();
    JsonNode node;
    try {
      node = Fmt.JSON.readTree(text.isBlank() ? "{}" : text);
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object, e.g. {}");
    }
    return node;
  }

  static UUID jobId(Context ctx) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a job id: a UUID is expected");
    }
  }

  /** A local path to go to after signing in; anything else goes to the overview. */
  static String safeNext(String next) {
    return next != null && next.startsWith("/") && !next.startsWith("//") && !next.contains("\\")
        ? next
        : "/";
  }

  private static void json(Context ctx, Object value) {
    ctx.contentType("application/json").result(Fmt.json(value));
  }

  private static void problem(Context ctx, int status, String message, Pages pages) {
    ctx.attribute(HANDLED, Boolean.TRUE);
    ctx.status(status);
    if (ctx.path().startsWith("/api/") || ctx.path().startsWith("/fragments/")) {
      ObjectNode e = JsonNodeFactory.instance.objectNode().put("error", message);
      ctx.contentType("application/json").result(e.toString());
    } else {
      pages.problem(ctx, status, message);
    }
  }

  /** The address the console answers on, e.g. {@code http://127.0.0.1:9500/}. */
  public String url() {
    return url;
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
    actions.close();
  }
}
