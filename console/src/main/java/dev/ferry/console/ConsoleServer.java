package dev.ferry.console;

import io.javalin.Javalin;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/** The console's web server (work in progress: the stats API only). */
public final class ConsoleServer implements AutoCloseable {
  private final Javalin app;

  private ConsoleServer(Javalin app) {
    this.app = app;
  }

  /** Starts on {@code host:port} (0 for any free port) serving from {@code db}. */
  public static ConsoleServer start(DataSource db, String host, int port) {
    Javalin app =
        Javalin.create(
            config -> {
              config.routes.get("/api/stats", ctx -> ctx.json(Map.of("byStatus", byStatus(db))));
            });
    app.start(host, port);
    return new ConsoleServer(app);
  }

  static Map<String, Long> byStatus(DataSource db) throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT status, count(*) AS n FROM ferry.jobs GROUP BY status ORDER BY status")) {
      while (rs.next()) {
        out.put(rs.getString("status"), rs.getLong("n"));
      }
    }
    return out;
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
  }
}
