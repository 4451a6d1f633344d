package dev.ferry.worker.poll;

import dev.ferry.core.model.WorkItem;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Decides which possibly redelivered work items may run, with one query per poll batch. Records
 * fetched soon after a partition moved to this worker may have been started by its previous owner.
 * An item runs only if its job is still {@code QUEUED} for that very dispatch; a job that is {@code
 * RUNNING} belongs to a live worker or, if that worker died, to the orchestrator's rescuer (which
 * retries it fenced and counts the crash, so a job that kills its workers is not passed from worker
 * to worker); any other state means the item is stale.
 */
public final class RedeliveryCheck {
  /**
   * {@code FOR SHARE} waits for a dispatcher whose claim of the job is not committed yet (it
   * produces the work item before it commits), so a brand-new dispatch is seen as QUEUED and never
   * mistaken for a stale one. Locks are taken in id order, like the outcome applier's.
   */
  private static final String SQL =
      "SELECT id, status, run_seq FROM ferry.jobs WHERE id = ANY(?::uuid[]) ORDER BY id FOR SHARE";

  private final DataSource dataSource;

  public RedeliveryCheck(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The dispatches ({@code id#run}) of the items that may run. */
  Set<String> runnable(List<WorkItem> items) throws SQLException {
    Map<UUID, Long> queuedRun = new HashMap<>();
    Set<UUID> known = new HashSet<>();
    Set<UUID> ids = new HashSet<>();
    for (WorkItem i : items) {
      ids.add(i.id());
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(SQL)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          known.add(id);
          if ("QUEUED".equals(rs.getString(2))) {
            queuedRun.put(id, rs.getLong(3));
          }
        }
      }
    }
    Set<String> out = new HashSet<>();
    for (WorkItem i : items) {
      // A job the database does not know cannot be judged: run it (its outcome is ignored).
      Long run = queuedRun.get(i.id());
      if (!known.contains(i.id()) || (run != null && run == i.run())) {
        out.add(key(i));
      }
    }
    return out;
  }

  static String key(WorkItem i) {
    return i.id() + "#" + i.run();
  }
}
