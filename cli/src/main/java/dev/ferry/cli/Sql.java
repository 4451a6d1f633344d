package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** One-shot database access and plain-text tables for the inspection commands. */
public final class Sql {
  private Sql() {}

  static Connection connect(FerryConfig c) throws SQLException {
    return DriverManager.getConnection(
        c.getRequired(Setting.DB_URL), c.get(Setting.DB_USER), c.get(Setting.DB_PASSWORD));
  }

  /** Prints a result set as an aligned table; returns the number of rows. */
  public static int printTable(ResultSet rs, int maxWidth) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int cols = md.getColumnCount();
    List<String[]> rows = new ArrayList<>();
    String[] head = new String[cols];
    int[] width = new int[cols];
    for (int i = 0; i < cols; i++) {
      head[i] = md.getColumnLabel(i + 1);
      width[i] = head[i].length();
    }
    while (rs.next()) {
      String[] r = new String[cols];
      for (int i = 0; i < cols; i++) {
        String v = rs.getString(i + 1);
        v = v == null ? "" : v.replace('\n', ' ');
        if (v.length() > maxWidth) {
          v = v.substring(0, maxWidth - 1) + "…";
        }
        r[i] = v;
        width[i] = Math.max(width[i], v.length());
      }
      rows.add(r);
    }
    StringBuilder sb = new StringBuilder();
    line(sb, head, width);
    for (int i = 0; i < cols; i++) {
      sb.append("-".repeat(width[i])).append(i + 1 < cols ? "  " : "\n");
    }
    for (String[] r : rows) {
      line(sb, r, width);
    }
    System.out.print(sb);
    return rows.size();
  }

  private static void line(StringBuilder sb, String[] cells, int[] width) {
    for (int i = 0; i < cells.length; i++) {
      sb.append(cells[i]);
      if (i + 1 < cells.length) {
        sb.append(" ".repeat(width[i] - cells[i].length() + 2));
      }
    }
    sb.append('\n');
  }
}
