package dev.ferry.cli;

import dev.ferry.core.text.SafeText;
import java.io.PrintWriter;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;

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
      SchedulesCommand.class,
      LimitsCommand.class,
      ConsoleCommand.class,
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
      System.setProperty(
          "ferry.kafka.log.level", System.getProperty("ferry.kafka.log.level", "ERROR"));
    }
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The {@code ferry} command line, with its setting options and error handlers. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    CommandLine completion = new CommandLine(new AutoComplete.GenerateCompletion());
    completion.getCommandSpec().name("completion");
    completion
        .getCommandSpec()
        .usageMessage()
        .hidden(false)
        .description(
            "Prints a bash/zsh completion script for ferry: `source <(ferry completion)`.",
            "",
            "Add that line to ~/.bashrc or ~/.zshrc to complete commands and options with TAB.");
    cl.addSubcommand("completion", completion);
    return configure(cl);
  }

  /**
   * Adds the setting options, the usage-error and the exit-code mapping to a command line: Ferry's
   * own, or a development tool's that {@link DevTools} loaded.
   */
  static CommandLine configure(CommandLine cl) {
    addSettingOptions(cl);
    cl.setUsageHelpWidth(USAGE_WIDTH);
    cl.setParameterExceptionHandler(Main::usageError);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          Throwable refused = kafkaRefusal(e);
          if (refused != null) {
            cmd.getErr()
                .println(
                    "ferry: Kafka refused the connection: "
                        + refused.getMessage()
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

  /** Columns of the help text: the descriptions' lines and the settings' texts fit in it. */
  static final int USAGE_WIDTH = 100;

  /** The most characters of a usage error's reason that are echoed (it may quote user input). */
  private static final int USAGE_ERROR_CHARS = 400;

  /**
   * A usage error (unknown option, bad value, missing parameter): one line with the reason and one
   * pointing at the command's help, instead of the whole usage; exit code 2.
   */
  static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("ferry: " + SafeText.echo(e.getMessage(), USAGE_ERROR_CHARS));
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
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
      if (sub.getCommand() instanceof ConfigurableCommand c) {
        ConfigurableCommand.addSettingOptions(sub.getCommandSpec(), c.settingGroups());
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
