package dev.ferry.orchestrator.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Running work in one transaction on a caller's connection (the operator actions). */
public final class Transactions {
  private Transactions() {}

  /** Work that runs SQL. */
  public interface Work<T> {
    T run() throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction on {@code c}: commits its result, rolls back on any
   * failure, and gives the connection back with its auto-commit as it was.
   */
  public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      T t = work.run();
      c.commit();
      return t;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }
}
