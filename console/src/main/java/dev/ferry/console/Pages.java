package dev.ferry.console;

import gg.jte.TemplateEngine;
import gg.jte.output.StringOutput;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/** Renders the pages (precompiled jte templates, output escaped by default). */
final class Pages {
  private final TemplateEngine engine;
  private final ConsoleQueries queries;
  private final ConsoleSecurity security;
  private final DataSource db;
  private final ConsoleActions schedules;
  private final ConsoleLimits limits;

  Pages(
      TemplateEngine engine,
      ConsoleQueries queries,
      ConsoleSecurity security,
      DataSource db,
      ConsoleActions schedules,
      ConsoleLimits limits) {
    this.schedules = schedules;
    this.limits = limits;
    this.engine = engine;
    this.queries = queries;
    this.security = security;
    this.db = db;
  }

  private Model.Page page(Context ctx, String title, String nav) {
    return new Model.Page(
        title, nav, security.csrfFor(ctx), security.readonly(), security.authOn(), Instant.now());
  }

  private void render(Context ctx, String template, Map<String, Object> params) {
    StringOutput out = new StringOutput();
    engine.render(template, params, out);
    ctx.contentType("text/html; charset=utf-8").result(out.toString());
  }

  void overview(Context ctx) throws SQLException {
    render(
        ctx,
        "overview.jte",
        Map.of("page", page(ctx, "Overview", "overview"), "o", queries.sharedOverview()));
  }

  void overviewLive(Context ctx) throws SQLException {
    render(
        ctx,
        "overview_live.jte",
        Map.of("page", page(ctx, "Overview", "overview"), "o", queries.sharedOverview()));
  }

  void jobs(Context ctx) throws SQLException {
    JobFilter f;
    String error = null;
    Model.JobPage p;
    try {
      f = JobFilter.parse(ctx::queryParam);
      p = queries.jobs(f, ConsoleQueries.PAGE);
    } catch (IllegalArgumentException e) {
      ctx.status(400);
      error = e.getMessage();
      f = new JobFilter(null, null, null, null, null, null, null, null, null);
      p = new Model.JobPage(List.of(), null);
    }
    Map<String, Object> params = new HashMap<>();
    params.put("page", page(ctx, "Jobs", "jobs"));
    params.put("f", f);
    params.put("p", p);
    params.put("error", error);
    params.put("raw", rawParams(ctx));
    render(ctx, "jobs.jte", params);
  }

  /** The filter fields as typed (kept in the form even when one of them is wrong). */
  private static Map<String, String> rawParams(Context ctx) {
    Map<String, String> raw = new HashMap<>();
    for (String name :
        List.of("status", "type", "dependency", "parent", "key", "q", "from", "to")) {
      String v = ctx.queryParam(name);
      raw.put(name, v == null ? "" : v);
    }
    return raw;
  }

  void confirm(Context ctx) throws SQLException {
    JobFilter f = JobFilter.parse(ctx::queryParam);
    String action = ctx.queryParam("action");
    if (!"retry".equals(action) && !"cancel".equals(action)) {
      throw new IllegalArgumentException("'action' must be retry or cancel");
    }
    if (!f.any()) {
      throw new IllegalArgumentException(
          "choose a filter first: bulk actions never take every job");
    }
    dev.ferry.orchestrator.admin.JobAdmin.Counts counts;
    try (Connection c = db.getConnection()) {
      counts = new dev.ferry.orchestrator.admin.JobAdmin().count(c, f.selection());
    }
    Map<String, Object> params = new HashMap<>();
    params.put("page", page(ctx, "Confirm " + action, "jobs"));
    params.put("f", f);
    params.put("action", action);
    params.put("count", action.equals("retry") ? counts.retryable() : counts.cancellable());
    render(ctx, "confirm.jte", params);
  }

  void job(Context ctx, UUID id) throws SQLException {
    Model.JobDetail j = queries.job(id);
    if (j == null) {
      throw new ConsoleSecurity.Refused(404, "no job " + id);
    }
    Model.JobPage children = null;
    if (j.children() != null) {
      children =
          queries.jobs(new JobFilter(null, null, null, id, null, null, null, null, null), 20);
    }
    Map<String, Object> params = new HashMap<>();
    params.put("page", page(ctx, "Job " + id, "jobs"));
    params.put("j", j);
    params.put("children", children);
    render(ctx, "job.jte", params);
  }

  void breakers(Context ctx, boolean live) throws SQLException {
    render(
        ctx,
        live ? "breakers_live.jte" : "breakers.jte",
        Map.of("page", page(ctx, "Breakers", "breakers"), "breakers", queries.breakers()));
  }

  void workers(Context ctx, boolean live) throws SQLException {
    render(
        ctx,
        live ? "workers_live.jte" : "workers.jte",
        Map.of("page", page(ctx, "Workers", "workers"), "workers", queries.workers()));
  }

  void rejected(Context ctx) throws SQLException {
    String before = ctx.queryParam("before");
    Long b;
    try {
      b = before == null || before.isBlank() ? null : Long.parseLong(before.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'before' must be a rejected submission's id");
    }
    render(
        ctx,
        "rejected.jte",
        Map.of(
            "page",
            page(ctx, "Rejected submissions", "rejected"),
            "r",
            queries.rejected(b, ConsoleQueries.PAGE)));
  }

  void schedules(Context ctx) throws SQLException {
    render(
        ctx,
        "schedules.jte",
        Map.of("page", page(ctx, "Schedules", "schedules"), "schedules", schedules.list()));
  }

  void limits(Context ctx) throws SQLException {
    render(ctx, "limits.jte", Map.of("page", page(ctx, "Limits", "limits"), "l", limits.page()));
  }

  void login(Context ctx, String error) {
    Map<String, Object> params = new HashMap<>();
    params.put("page", page(ctx, "Sign in", "login"));
    params.put(
        "next",
        ConsoleServer.safeNext(
            ctx.formParam("next") != null ? ctx.formParam("next") : ctx.queryParam("next")));
    params.put("error", error);
    render(ctx, "login.jte", params);
  }

  void problem(Context ctx, int status, String message) {
    Map<String, Object> params = new HashMap<>();
    params.put("page", page(ctx, "Error " + status, ""));
    params.put("status", status);
    params.put("message", message);
    render(ctx, "problem.jte", params);
  }
}
