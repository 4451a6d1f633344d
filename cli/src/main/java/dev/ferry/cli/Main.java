package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ferry} command. */
@Command(
    name = "ferry",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Ferry: job orchestration on Apache Kafka and PostgreSQL.",
    subcommands = {
      DevTools.Demo.class,
      DevTools.Dev.class,
      OrchestratorCommand.class,
      WorkerCommand.class,
      MigrateCommand.class,
      SubmitCommand.class,
      StatusCommand.class,
      JobsCommand.class,
      CancelCommand.class,
      RetryCommand.class,
      BreakersCommand.class,
      RolesCommand.class,
      DevTools.Bench.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("demo") || args[0].equals("bench"))) {
      // These commands print their own progress; keep the logs for problems only.
      System.setProperty("ferry.log.level", System.getProperty("ferry.log.level", "WARN"));
      System.setProperty("ferry.kafka.log.level", System.getProperty("ferry.kafka.log.level", "ERROR"));
    }
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    return configure(new CommandLine(new Main())).execute(args);
  }

  /**
   * Adds the setting options and the exit-code mapping to a command line: Ferry's own, or a
   * development tool's that {@link DevTools} loaded.
   */
  static CommandLine configure(CommandLine cl) {
    addSettingOptions(cl);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          Throwable refused = kafkaRefusal(e);
          if (refused != null) {
            cmd.getErr().println("ferry: Kafka refused the connection: " + refused.getMessage()
                + " (check security.protocol and the sasl.* / ssl.* settings, e.g."
                + " FERRY_KAFKA_SASL_JAAS_CONFIG)");
            return 4;
          }
          if (e instanceof java.sql.SQLException) {
            cmd.getErr().println("ferry: database error: " + e.getMessage());
            return 3;
          }
          if (e instanceof dev.ferry.core.config.ConfigException
              || e instanceof IllegalArgumentException
              || e instanceof IllegalStateException) {
            cmd.getErr().println("ferry: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cl;
  }

  /** The Kafka authentication or authorization failure behind an exception, if any. */
  static Throwable kafkaRefusal(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.AuthenticationException
          || t instanceof org.apache.kafka.common.errors.AuthorizationException) {
        return t;
      }
    }
    return null;
  }

  private static void addSettingOptions(CommandLine cl) {
    for (CommandLine sub : cl.getSubcommands().values()) {
      if (sub.getCommand() instanceof ConfigurableCommand) {
        ConfigurableCommand.addSettingOptions(sub.getCommandSpec());
      }
      addSettingOptions(sub);
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"ferry " + (v == null ? "dev" : v)};
    }
  }
}
