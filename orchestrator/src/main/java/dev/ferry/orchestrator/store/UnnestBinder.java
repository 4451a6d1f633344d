package dev.ferry.orchestrator.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Binds the parameters of a batched statement in order: a whole batch as one array per column, for
 * statements of the form {@code … FROM unnest(?::uuid[], ?::text[], …) AS u(…)}, and the plain
 * values between them. One statement then handles a batch of any size in one round trip.
 *
 * <pre>{@code
 * new UnnestBinder(c, ps)
 *     .uuids(rows, AttemptRow::jobId)
 *     .ints(rows, AttemptRow::attempt)
 *     .timestamps(rows, AttemptRow::finishedAt);
 * }</pre>
 *
 * <p>Each column method reads one value per row, in the rows' order, so that element {@code i} of
 * every array belongs to row {@code i}; nulls stay SQL nulls. Not thread-safe: one binder per
 * statement execution.
 */
public final class UnnestBinder {
  private final Connection connection;
  private final PreparedStatement statement;
  private int next = 1;

  public UnnestBinder(Connection connection, PreparedStatement statement) {
    this.connection = connection;
    this.statement = statement;
  }

  /** A {@code uuid[]} column: one value per row. */
  public <R> UnnestBinder uuids(List<R> rows, Function<? super R, UUID> column)
      throws SQLException {
    return array("uuid", rows, column, new UUID[rows.size()]);
  }

  /** A {@code text[]} column: one value per row. */
  public <R> UnnestBinder texts(List<R> rows, Function<? super R, String> column)
      throws SQLException {
    return array("text", rows, column, new String[rows.size()]);
  }

  /** An {@code int[]} column: one value per row. */
  public <R> UnnestBinder ints(List<R> rows, Function<? super R, Integer> column)
      throws SQLException {
    return array("int4", rows, column, new Integer[rows.size()]);
  }

  /** A {@code boolean[]} column: one value per row. */
  public <R> UnnestBinder bools(List<R> rows, Function<? super R, Boolean> column)
      throws SQLException {
    return array("bool", rows, column, new Boolean[rows.size()]);
  }

  /** A {@code bigint[]} column: one value per row. */
  public <R> UnnestBinder longs(List<R> rows, Function<? super R, Long> column)
      throws SQLException {
    return array("int8", rows, column, new Long[rows.size()]);
  }

  /** A {@code timestamptz[]} column: one value per row (a null instant stays null). */
  public <R> UnnestBinder timestamps(List<R> rows, Function<? super R, Instant> column)
      throws SQLException {
    return array(
        "timestamptz",
        rows,
        r -> {
          Instant i = column.apply(r);
          return i == null ? null : Timestamp.from(i);
        },
        new Timestamp[rows.size()]);
  }

  /** A {@code uuid[]} parameter holding the given ids (e.g. for {@code id = ANY(?::uuid[])}). */
  public UnnestBinder uuidArray(Collection<UUID> ids) throws SQLException {
    statement.setArray(next++, connection.createArrayOf("uuid", ids.toArray(UUID[]::new)));
    return this;
  }

  /** A plain {@code boolean} parameter. */
  public UnnestBinder bool(boolean value) throws SQLException {
    statement.setBoolean(next++, value);
    return this;
  }

  /** A plain {@code bigint} parameter. */
  public UnnestBinder int8(long value) throws SQLException {
    statement.setLong(next++, value);
    return this;
  }

  /** A plain {@code timestamptz} parameter. */
  public UnnestBinder timestamp(Instant value) throws SQLException {
    statement.setTimestamp(next++, value == null ? null : Timestamp.from(value));
    return this;
  }

  /** A plain {@code text} parameter. */
  public UnnestBinder text(String value) throws SQLException {
    statement.setString(next++, value);
    return this;
  }

  /** Fills {@code values} (typed like the original arrays, so the driver encodes them alike). */
  private <R, V> UnnestBinder array(
      String type, List<R> rows, Function<? super R, ? extends V> column, V[] values)
      throws SQLException {
    for (int i = 0; i < values.length; i++) {
      values[i] = column.apply(rows.get(i));
    }
    statement.setArray(next++, connection.createArrayOf(type, values));
    return this;
  }
}
