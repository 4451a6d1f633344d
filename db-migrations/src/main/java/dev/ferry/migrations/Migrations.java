package dev.ferry.migrations;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies Ferry's SQL migrations (classpath {@code db/ferry}) to schema {@code ferry}. Safe to run
 * concurrently from several processes: Flyway takes a lock in the database.
 */
public final class Migrations {
  /** The schema that holds every Ferry table. */
  public static final String SCHEMA = "ferry";

  private Migrations() {}

  /**
   * Brings the schema up to date.
   *
   * @return the number of migrations applied (0 when already current)
   */
  public static int migrate(DataSource dataSource) {
    MigrateResult result =
        Flyway.configure()
            .dataSource(dataSource)
            .schemas(SCHEMA)
            .createSchemas(true)
            .locations("classpath:db/ferry")
            .table("flyway_schema_history")
            .load()
            .migrate();
    return result.migrationsExecuted;
  }
}
