package dev.ferry.cli;

import dev.ferry.core.config.SettingGroup;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.schedule.ScheduleAdmin;
import java.sql.Connection;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(
    name = "schedules",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the recurring schedules, and pauses, resumes, deletes or triggers one.",
      "",
      "A schedule is defined by submitting a job with a \"schedule\" field to ferry.submit;",
      "the rest of the record is the template of the job each tick creates.",
      "",
      "  ferry schedules                 name, cron, zone, next and last fire, enabled",
      "  ferry schedules pause NAME      stop firing (the definition stays)",
      "  ferry schedules resume NAME     fire again from the next tick (missed ones are not made up)",
      "  ferry schedules delete NAME     remove it (its jobs stay)",
      "  ferry schedules trigger NAME    create one job of it now, outside its ticks"
    },
    subcommands = {
      SchedulesCommand.Pause.class,
      SchedulesCommand.Resume.class,
      SchedulesCommand.Delete.class,
      SchedulesCommand.Trigger.class
    })
final class SchedulesCommand extends ConfigurableCommand implements Callable<Integer> {
  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    try (Connection c = Sql.connect(config());
        var st = c.createStatement();
        var rs =
            st.executeQuery(
                """
                SELECT name, cron, time_zone AS zone, next_fire_at AS next_fire,
                       last_fire_at AS last_fire, enabled, misfire
                FROM ferry.schedules ORDER BY name
                """)) {
      int n = Sql.printTable(rs, 60);
      System.out.println("(" + n + " schedules)");
    }
    return 0;
  }

  /** Shared code of the subcommands. */
  abstract static class Action extends ConfigurableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The schedule's name.")
    String name;

    @Override
    Set<SettingGroup> settingGroups() {
      return EnumSet.of(SettingGroup.DATABASE, SettingGroup.SUBMISSIONS, SettingGroup.JOB_DEFAULTS);
    }

    abstract String act(ScheduleAdmin admin, Connection c) throws Exception;

    @Override
    public Integer call() throws Exception {
      ScheduleAdmin admin = new ScheduleAdmin(OrchestratorSettings.from(config()));
      try (Connection c = Sql.connect(config())) {
        String done = act(admin, c);
        if (done == null) {
          System.err.println("ferry: no schedule named '" + name + "'");
          return 1;
        }
        System.out.println(done);
        return 0;
      }
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stops firing.")
  static final class Pause extends Action {
    @Override
    String act(ScheduleAdmin admin, Connection c) throws Exception {
      return admin.pause(c, name) ? "Schedule " + name + " paused." : null;
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = "Fires again from the next tick.")
  static final class Resume extends Action {
    @Override
    String act(ScheduleAdmin admin, Connection c) throws Exception {
      return admin.resume(c, name) ? "Schedule " + name + " resumed." : null;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes it.")
  static final class Delete extends Action {
    @Override
    String act(ScheduleAdmin admin, Connection c) throws Exception {
      return admin.delete(c, name) ? "Schedule " + name + " deleted." : null;
    }
  }

  @Command(
      name = "trigger",
      mixinStandardHelpOptions = true,
      description = "Creates one job of it now, outside its ticks.")
  static final class Trigger extends Action {
    @Override
    String act(ScheduleAdmin admin, Connection c) throws Exception {
      UUID id = admin.trigger(c, name);
      return id == null ? null : id.toString();
    }
  }
}
