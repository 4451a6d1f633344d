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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

@Command(
    name = "retry",
    mixinStandardHelpOptions = true,
    description = {
      "Re-drives FAILED or CANCELLED jobs: they become PENDING and run again now.",
      "",
      "Attempt accounting: the attempt counter and ferry.job_attempts history are kept;",
      "the job gets --attempts more attempts (max_attempts = attempts + N; default N is",
      "the configured maxAttempts of its --type, or job.max.attempts).",
      "Examples:  ferry retry 3f0c2a9e-…     ferry retry --status FAILED --type http"
    })
final class RetryCommand extends ConfigurableCommand implements Callable<Integer> {
  @Parameters(paramLabel = "JOB_ID", arity = "0..*", description = "Jobs to re-drive.")
  List<UUID> ids;

  @Option(
      names = "--status",
      description = "Re-drive every job in this status (FAILED or CANCELLED).")
  JobStatus status;

  @Option(names = "--type", description = "Only jobs of this type.")
  String type;

  @Option(names = "--attempts", description = "How many more attempts each job gets.")
  Integer attempts;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE, SettingGroup.KAFKA, SettingGroup.JOB_DEFAULTS);
  }

  @Override
  public Integer call() throws Exception {
    if (status != null && status != JobStatus.FAILED && status != JobStatus.CANCELLED) {
      throw new ParameterException(
          spec.commandLine(), "--status must be FAILED or CANCELLED but was " + status);
    }
    FerryConfig config = config();
    int extra = attempts != null ? attempts : config.jobDefaults(type).maxAttempts();
    List<JobAdmin.Changed> changed;
    try (Connection c = Sql.connect(config)) {
      changed = new JobAdmin().retry(c, AdminCommands.selection(ids, status, type), extra);
    }
    AdminCommands.report("Re-drove", changed);
    AdminCommands.publish(config, changed, JobStatus.PENDING, null);
    return 0;
  }
}
