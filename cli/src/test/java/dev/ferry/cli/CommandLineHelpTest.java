package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.Setting;
import dev.ferry.core.config.SettingGroup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The command line's help and usage errors, without Kafka or PostgreSQL. */
class CommandLineHelpTest {
  private record Run(int exit, String out, String err) {}

  private static synchronized Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new Run(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void jobsHelp_listsTheDatabaseSettings_andNoneItDoesNotUse() {
    Run r = run("jobs", "--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("Database:", "--db-url", "--db-user", "--db-password", "--status", "--output")
        .doesNotContain("--breaker-")
        .doesNotContain("--applier-threads")
        .doesNotContain("--backoff-")
        .doesNotContain("--worker-concurrency")
        .doesNotContain("--kafka-bootstrap-servers");
    assertThat(r.out().lines().count()).as(r.out()).isLessThan(50);
  }

  @Test
  void workerHelp_groupsItsSettingsUnderHeadings() {
    Run r = run("worker", "--help");
    assertThat(r.out())
        .contains(
            SettingGroup.DATABASE.heading() + ":",
            SettingGroup.KAFKA.heading() + ":",
            SettingGroup.WORKER.heading() + ":",
            SettingGroup.BREAKER.heading() + ":",
            "--worker-concurrency",
            "--breaker-open-ms")
        .doesNotContain("--applier-threads")
        .doesNotContain("--retention-ms");
    assertThat(r.out()).startsWith("Usage: ferry worker [OPTIONS]");
  }

  @Test
  void settingsACommandDoesNotList_areStillAccepted() {
    // A script may pass the same connection flags to every command.
    CommandLine cl = Main.commandLine();
    CommandLine.ParseResult parsed =
        cl.parseArgs(
            "jobs", "--kafka-bootstrap-servers=k:9092", "--db-url=jdbc:postgresql://db/ferry");
    CommandLine.ParseResult jobs = parsed.subcommand();
    assertThat(jobs.matchedOptionValue("--kafka-bootstrap-servers", "")).isEqualTo("k:9092");
    JobsCommand command = (JobsCommand) jobs.commandSpec().userObject();
    assertThat(command.config().get(Setting.DB_URL)).isEqualTo("jdbc:postgresql://db/ferry");
    assertThat(command.config().get(Setting.KAFKA_BOOTSTRAP_SERVERS)).isEqualTo("k:9092");
  }

  @Test
  void usageError_printsTheReasonAndWhereToLook_notTheWholeHelp() {
    Run r = run("jobs", "--status", "BOGUS");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines().toList()).hasSize(2);
    assertThat(r.err())
        .startsWith("ferry: Invalid value for option '--status'")
        .contains("'BOGUS'")
        .endsWith("Try 'ferry jobs --help' for more information." + System.lineSeparator());
  }

  @ParameterizedTest
  @ValueSource(strings = {"--bogus", "--limit=many", "--limit=0", "--output=yaml"})
  void everyUsageErrorOfJobs_isTwoLines(String arg) {
    Run r = run("jobs", arg);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err().lines().toList()).hasSize(2);
  }

  @Test
  void usageErrorsFoundByACommandItself_lookTheSame() {
    Run retry = run("retry", "--status", "SUCCEEDED");
    assertThat(retry.exit()).isEqualTo(2);
    assertThat(retry.err())
        .isEqualTo(
            "ferry: --status must be FAILED or CANCELLED but was SUCCEEDED"
                + System.lineSeparator()
                + "Try 'ferry retry --help' for more information."
                + System.lineSeparator());
    Run submit = run("submit");
    assertThat(submit.exit()).isEqualTo(2);
    assertThat(submit.err()).contains("give --type (or --file)", "Try 'ferry submit --help'");
  }

  @Test
  void usageErrorOfANestedCommand_namesIt() {
    Run r = run("breakers", "open");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("Missing required parameter")
        .contains("Try 'ferry breakers open --help'");
  }

  @Test
  void commandSummaries_areWholeSentences() {
    Map<String, CommandLine> subs = Main.commandLine().getSubcommands();
    assertThat(subs).containsKeys("jobs", "status", "completion");
    for (Map.Entry<String, CommandLine> e : subs.entrySet()) {
      CommandSpec spec = e.getValue().getCommandSpec();
      String[] header = spec.usageMessage().header();
      String summary = header.length > 0 ? header[0] : spec.usageMessage().description()[0];
      assertThat(summary).as(e.getKey()).endsWith(".").doesNotEndWith(",");
    }
    Run r = run("--help");
    assertThat(r.out())
        .contains("completion")
        .contains("roles")
        .contains("least-privilege database roles.");
  }

  @Test
  void completion_printsABashScript() {
    Run r = run("completion");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("ferry Bash Completion").contains("jobs").contains("--output");
  }
}
