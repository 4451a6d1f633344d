package dev.ferry.cli;

import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.flow.Rate;
import dev.ferry.orchestrator.flow.LimitsStore;
import java.sql.Connection;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "limits",
    mixinStandardHelpOptions = true,
    description = {
      "Lists, sets and clears fleet-wide dependency limits.",
      "",
      "A rate caps how many attempts start per period across all workers; max concurrent",
      "caps how many are queued or running. Jobs over a limit wait without using attempts.",
      "A change applies within a second.",
      "",
      "  ferry limits                                   every dependency's limits",
      "  ferry limits set DEP [--rate 100/1s] [--max-concurrent 10]",
      "  ferry limits clear DEP"
    },
    subcommands = {LimitsCommand.SetLimits.class, LimitsCommand.Clear.class})
final class LimitsCommand extends ConfigurableCommand implements Callable<Integer> {
  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    try (Connection c = Sql.connect(config())) {
      var limits = new LimitsStore().list(c);
      System.out.printf(
          "%-40s %-16s %-14s %s%n", "dependency", "rate", "max_concurrent", "updated");
      for (var l : limits) {
        System.out.printf(
            "%-40s %-16s %-14s %s%n",
            l.dependency(),
            l.rate() == null ? "-" : l.rate(),
            l.maxConcurrent() == null ? "-" : l.maxConcurrent(),
            l.updatedAt());
      }
      System.out.println("(" + limits.size() + " dependencies with limits)");
    }
    return 0;
  }

  @Command(
      name = "set",
      mixinStandardHelpOptions = true,
      description = "Sets a dependency's rate and/or concurrency limit (the other stays).")
  static final class SetLimits extends ConfigurableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DEPENDENCY", description = "e.g. payments-api or host:port")
    String dependency;

    @Option(
        names = "--rate",
        description =
            "At most N attempts start per period, all workers together: 100/1s, 50/500ms,"
                + " 1000/1m; none removes the rate limit.")
    String rate;

    @Option(
        names = "--max-concurrent",
        description =
            "At most N of its jobs queued or running at once, all workers together; none removes"
                + " the cap.")
    String maxConcurrent;

    @Override
    Set<SettingGroup> settingGroups() {
      return EnumSet.of(SettingGroup.DATABASE);
    }

    @Override
    public Integer call() throws Exception {
      if (rate == null && maxConcurrent == null) {
        throw new IllegalArgumentException("give --rate and/or --max-concurrent");
      }
      Rate parsed = rate == null || isNone(rate) ? null : Rate.parse(rate);
      Integer max = null;
      if (maxConcurrent != null && !isNone(maxConcurrent)) {
        try {
          max = Integer.parseInt(maxConcurrent.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "--max-concurrent must be a whole number of at least 1, or none, not '"
                  + maxConcurrent
                  + "'");
        }
      }
      try (Connection c = Sql.connect(config())) {
        new LimitsStore().set(c, dependency, parsed, rate != null, max, maxConcurrent != null);
      }
      System.out.println("Limits of " + dependency + " set.");
      return 0;
    }
  }

  private static boolean isNone(String v) {
    return v.trim().equalsIgnoreCase("none");
  }

  @Command(name = "clear", mixinStandardHelpOptions = true, description = "Removes its limits.")
  static final class Clear extends ConfigurableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DEPENDENCY")
    String dependency;

    @Override
    Set<SettingGroup> settingGroups() {
      return EnumSet.of(SettingGroup.DATABASE);
    }

    @Override
    public Integer call() throws Exception {
      try (Connection c = Sql.connect(config())) {
        if (!new LimitsStore().clear(c, dependency)) {
          System.err.println("ferry: " + dependency + " has no limits");
          return 1;
        }
      }
      System.out.println("Limits of " + dependency + " cleared.");
      return 0;
    }
  }
}
