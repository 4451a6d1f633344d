package dev.ferry.orchestrator.schedule;

import static dev.ferry.orchestrator.store.Transactions.inTransaction;

import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.model.Submission;
import dev.ferry.core.schedule.CronSchedule;
import dev.ferry.core.trace.TraceContext;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.intake.IntakeStore;
import dev.ferry.orchestrator.intake.JobRows;
import dev.ferry.orchestrator.store.JobStore;
import dev.ferry.orchestrator.store.NewJob;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Operator actions on schedules ({@code ferry schedules}, the console): pause, resume, delete and
 * trigger, each in one transaction that wakes the schedulers.
 */
public final class ScheduleAdmin {
  private final ScheduleStore store = new ScheduleStore();
  private final IntakeStore intakeStore = new IntakeStore();
  private final JobStore jobStore = new JobStore();
  private final SubmissionCodec codec;
  private final JobRows rows;

  public ScheduleAdmin(OrchestratorSettings settings) {
    this.codec = new SubmissionCodec(settings.limits());
    this.rows = new JobRows(settings);
  }

  /** A schedule as listed. */
  public record Row(
      String name,
      String cron,
      String timeZone,
      String misfire,
      boolean enabled,
      Instant nextFireAt,
      Instant lastFireAt,
      String template) {}

  public List<Row> list(Connection c) throws SQLException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, cron, time_zone, misfire, enabled, next_fire_at, last_fire_at,"
                    + " template::text AS template FROM ferry.schedules ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Row(
                rs.getString("name"),
                rs.getString("cron"),
                rs.getString("time_zone"),
                rs.getString("misfire"),
                rs.getBoolean("enabled"),
                instant(rs.getTimestamp("next_fire_at")),
                instant(rs.getTimestamp("last_fire_at")),
                rs.getString("template")));
      }
    }
    return out;
  }

  /** Stops firing (the definition stays). Returns whether the schedule exists. */
  public boolean pause(Connection c, String name) throws SQLException {
    return update(
        c, "UPDATE ferry.schedules SET enabled = false, updated_at = now() WHERE name = ?", name);
  }

  /** Fires again from the next tick after now: ticks missed while paused are not made up. */
  public boolean resume(Connection c, String name) throws SQLException {
    Row row = find(c, name);
    if (row == null) {
      return false;
    }
    Instant next =
        CronSchedule.parse(row.cron(), row.timeZone()).nextAfter(Instant.now()).orElse(null);
    return inTransaction(
        c,
        () -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ferry.schedules SET enabled = true, next_fire_at = ?, updated_at = now()"
                      + " WHERE name = ?")) {
            ps.setTimestamp(1, next == null ? null : Timestamp.from(next));
            ps.setString(2, name);
            boolean found = ps.executeUpdate() == 1;
            store.notifyChanged(c);
            return found;
          }
        });
  }

  /** Deletes the schedule; jobs it created stay. */
  public boolean delete(Connection c, String name) throws SQLException {
    return update(c, "DELETE FROM ferry.schedules WHERE name = ?", name);
  }

  /**
   * Creates one job of the schedule now, outside its ticks (its id derived from the name and the
   * moment, {@code schedule_name} set); the ticks go on as before. Returns its id, or null when
   * there is no such schedule.
   */
  public UUID trigger(Connection c, String name) throws SQLException, InvalidSubmissionException {
    Row row = find(c, name);
    if (row == null) {
      return null;
    }
    Submission template = codec.decode(row.template().getBytes(StandardCharsets.UTF_8));
    Instant now = Instant.now();
    UUID id = Scheduler.tickId(name + "/trigger", now);
    List<NewJob> jobs = new ArrayList<>();
    rows.flatten(template.forTick(id, now), null, id, TraceContext.fresh(), jobs);
    jobs.set(0, jobs.get(0).withScheduleName(name));
    return inTransaction(
        c,
        () -> {
          boolean created = !intakeStore.insertJobs(c, jobs).isEmpty();
          if (!created) {
            throw new IllegalStateException(
                "schedule "
                    + name
                    + " made no job: its template's unique key is held by an unfinished job");
          }
          jobStore.notifyDue(c);
          return id;
        });
  }

  private Row find(Connection c, String name) throws SQLException {
    for (Row r : list(c)) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    return null;
  }

  private boolean update(Connection c, String sql, String name) throws SQLException {
    return inTransaction(
        c,
        () -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            boolean found = ps.executeUpdate() == 1;
            store.notifyChanged(c);
            return found;
          }
        });
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
