package dev.ferry.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/** Creates databases on a server through an administrative connection. */
final class PostgresAdmin {
  private static final Pattern SAFE = Pattern.compile("[a-z0-9_]{1,60}");

  private PostgresAdmin() {}

  static void createDatabase(String adminUrl, String user, String password, String name) {
    if (!SAFE.matcher(name).matches()) {
      throw new IllegalArgumentException("database name must match " + SAFE + " but was " + name);
    }
    try (Connection c = DriverManager.getConnection(adminUrl, user, password);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
  }

  /** Replaces the database name in a JDBC URL (keeps any query string). */
  static String withDatabase(String url, String name) {
    int q = url.indexOf('?');
    String base = q < 0 ? url : url.substring(0, q);
    String query = q < 0 ? "" : url.substring(q);
    int slash = base.lastIndexOf('/');
    return base.substring(0, slash + 1) + name + query;
  }
}
