package dev.ferry.worker;

import java.lang.reflect.Proxy;
import java.sql.SQLException;
import javax.sql.DataSource;

/** Test helper: a data source whose every connection attempt fails, as while PostgreSQL is down. */
public final class RefusingDataSource {
  private RefusingDataSource() {}

  /**
   * Connections are refused; any other call is unsupported (the code under test must not make it).
   */
  public static DataSource create() {
    return (DataSource)
        Proxy.newProxyInstance(
            RefusingDataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) {
                throw new SQLException("Connection refused (test)");
              }
              if (method.getName().equals("toString")) {
                return "refusing data source";
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
