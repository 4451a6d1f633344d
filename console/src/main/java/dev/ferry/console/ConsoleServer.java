package dev.ferry.console;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's web server (work in progress: the read side of the JSON API of DESIGN section 10;
 * pages, actions and security follow, see PLAN.md).
 */
public final class ConsoleServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);

  private final Javalin app;

  private ConsoleServer(Javalin app) {
    this.app = app;
  }

  /** Starts on {@code host:port} (0 for any free port) serving from {@code db}. */
  public static ConsoleServer start(DataSource db, String host, int port) {
    ConsoleQueries queries = new ConsoleQueries(db);
    Javalin app =
        Javalin.create(
            config -> {
              config.routes.get("/api/stats", ctx -> json(ctx, queries.stats().toString()));
              config.routes.get(
                  "/api/jobs",
                  ctx ->
                      json(
                          ctx,
                          queries
                              .jobs(JobFilter.parse(ctx::queryParam), ConsoleQueries.PAGE)
                              .toString()));
              config.routes.get(
                  "/api/jobs/{id}",
                  ctx -> {
                    UUID id;
                    try {
                      id = UUID.fromString(ctx.pathParam("id"));
                    } catch (IllegalArgumentException e) {
                      throw new IllegalArgumentException("not a job id: a UUID is expected");
                    }
                    var job = queries.job(id);
                    if (job == null) {
                      error(ctx, 404, "no job " + id);
                    } else {
                      json(ctx, job.toString());
                    }
                  });
              config.routes.exception(
                  IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
              config.routes.exception(
                  Exception.class,
                  (e, ctx) -> {
                    log.warn("Console request {} failed", ctx.path(), e);
                    error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
                  });
            });
    app.start(host, port);
    return new ConsoleServer(app);
  }

  private static void json(Context ctx, String body) {
    ctx.contentType("application/json").result(body);
  }

  private static void error(Context ctx, int status, String message) {
    ctx.status(status);
    json(ctx, JsonNodeFactory.instance.objectNode().put("error", message).toString());
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
  }
}
