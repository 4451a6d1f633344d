package dev.ferry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

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

  /**
   * A result set as JSON objects, one per row, keyed by column label: numbers and booleans as such,
   * timestamps as ISO-8601 instants, the columns named in {@code jsonColumns} (JSON text from the
   * database) as JSON, everything else as strings; SQL NULL as null.
   */
  static ArrayNode jsonRows(ResultSet rs, Set<String> jsonColumns) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    ArrayNode rows = JsonNodeFactory.instance.arrayNode();
    while (rs.next()) {
      ObjectNode row = rows.addObject();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        String label = md.getColumnLabel(i);
        Object v = rs.getObject(i);
        if (v == null) {
          row.putNull(label);
          continue;
        }
        switch (md.getColumnType(i)) {
          case Types.SMALLINT, Types.INTEGER, Types.BIGINT -> row.put(label, rs.getLong(i));
          case Types.NUMERIC, Types.DECIMAL, Types.REAL, Types.FLOAT, Types.DOUBLE ->
              row.put(label, rs.getBigDecimal(i));
          case Types.BOOLEAN, Types.BIT -> row.put(label, rs.getBoolean(i));
          case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> {
            Timestamp t = rs.getTimestamp(i);
            row.put(label, t.toInstant().toString());
          }
          default -> {
            String text = rs.getString(i);
            if (jsonColumns.contains(label)) {
              row.set(label, FerryJson.parse(text));
            } else {
              row.put(label, text);
            }
          }
        }
      }
    }
    return rows;
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
