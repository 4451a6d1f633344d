package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.admin.JobAdmin;
import java.sql.Connection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancels jobs: PENDING, RETRY_WAIT, QUEUED or RUNNING → CANCELLED.",
      "",
      "No further attempt starts. A running handler is interrupted (cooperative: it sees",
      "an InterruptedException or Thread.isInterrupted()); its late outcome is ignored.",
      "Examples:  ferry cancel 3f0c2a9e-…     ferry cancel --status RETRY_WAIT --type http"
    })
final class CancelCommand extends ConfigurableCommand implements Callable<Integer> {
  @Parameters(paramLabel = "JOB_ID", arity = "0..*", description = "Jobs to cancel.")
  List<UUID> ids;

  @Option(names = "--status", description = "Cancel every cancellable job in this status.")
  JobStatus status;

  @Option(names = "--type", description = "Only jobs of this type.")
  String type;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE, SettingGroup.KAFKA);
  }

  @Override
  public Integer call() throws Exception {
    FerryConfig config = config();
    List<JobAdmin.Changed> changed;
    try (Connection c = Sql.connect(config)) {
      changed = new JobAdmin().cancel(c, AdminCommands.selection(ids, status, type));
    }
    AdminCommands.report("Cancelled", changed);
    AdminCommands.publish(config, changed, JobStatus.CANCELLED, "cancelled by an operator");
    return 0;
  }
}
