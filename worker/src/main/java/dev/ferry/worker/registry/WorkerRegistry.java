package dev.ferry.worker.registry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.function.IntSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this worker's row in {@code ferry.workers}: registered at start, a heartbeat with the
 * current in-flight count at a fixed interval, {@code stopped_at} set on graceful shutdown. A
 * database outage only delays heartbeats (logged), it never stops the worker.
 */
public final class WorkerRegistry {
  private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);

  private static final String REGISTER =
      """
      INSERT INTO ferry.workers (id, host, started_at, heartbeat_at, concurrency, in_flight)
      VALUES (?, ?, now(), now(), ?, 0)
      ON CONFLICT (id) DO UPDATE
      SET host = excluded.host, started_at = now(), heartbeat_at = now(),
          concurrency = excluded.concurrency, in_flight = 0, stopped_at = NULL
      """;
  private static final String HEARTBEAT =
      "UPDATE ferry.workers SET heartbeat_at = now(), in_flight = ? WHERE id = ?";
  private static final String STOPPED =
      "UPDATE ferry.workers SET heartbeat_at = now(), in_flight = 0, stopped_at = now() WHERE id = ?";

  private final DataSource dataSource;
  private final String workerId;
  private final String host;
  private final int concurrency;
  private volatile boolean healthy = true;

  public WorkerRegistry(DataSource dataSource, String workerId, String host, int concurrency) {
    this.dataSource = dataSource;
    this.workerId = workerId;
    this.host = host;
    this.concurrency = concurrency;
  }

  public void register() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(REGISTER)) {
      ps.setString(1, workerId);
      ps.setString(2, host);
      ps.setInt(3, concurrency);
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn(
          "Could not register worker {} in ferry.workers (will retry with heartbeats): {}",
          workerId,
          e.toString());
    }
  }

  /** One heartbeat; safe to call from a scheduler thread. */
  public void heartbeat(IntSupplier inFlight) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
      ps.setInt(1, inFlight.getAsInt());
      ps.setString(2, workerId);
      if (ps.executeUpdate() == 0) {
        register();
      }
      if (!healthy) {
        log.info("Heartbeats to the database resumed");
        healthy = true;
      }
    } catch (SQLException | RuntimeException e) {
      if (healthy) {
        log.warn("Heartbeat failed (database unavailable?): {}", e.toString());
        healthy = false;
      }
    }
  }

  public void stopped() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(STOPPED)) {
      ps.setString(1, workerId);
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("Could not mark worker {} stopped: {}", workerId, e.toString());
    }
  }
}
