package dev.ferry.cli;

import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.worker.breaker.BreakerStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "breakers",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the shared circuit breakers, and forces, closes or resets one.",
      "",
      "  ferry breakers                      state, failure rate, since when, next retry",
      "  ferry breakers open  DEP [--for-ms N] force OPEN (indefinitely without --for-ms)",
      "  ferry breakers close DEP             force CLOSED (never opens until reset)",
      "  ferry breakers reset DEP             back to an automatic, empty CLOSED breaker"
    },
    subcommands = {
      BreakersCommand.Open.class,
      BreakersCommand.Close.class,
      BreakersCommand.Reset.class
    })
final class BreakersCommand extends ConfigurableCommand implements Callable<Integer> {
  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    try (Connection c = Sql.connect(config());
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
            SELECT dependency, state, round(failure_rate::numeric, 1) AS failure_pct,
                   window_calls AS calls, state_since AS since, retry_at AS next_retry,
                   trips, forced, generation, last_reason
            FROM ferry.circuit_breakers ORDER BY state <> 'CLOSED' DESC, dependency
            """)) {
      int n = Sql.printTable(rs, 60);
      System.out.println("(" + n + " breakers)");
    }
    return 0;
  }

  /** Shared code of the operator subcommands. */
  abstract static class Change extends ConfigurableCommand implements Callable<Integer> {
    @Parameters(
        paramLabel = "DEPENDENCY",
        description = "The dependency, e.g. payments-api or host:port.")
    String dependency;

    abstract BreakerStore.Batch apply(BreakerStore store, Connection c) throws Exception;

    @Override
    Set<SettingGroup> settingGroups() {
      return EnumSet.of(SettingGroup.DATABASE, SettingGroup.BREAKER);
    }

    @Override
    public Integer call() throws Exception {
      FerryConfig config = config();
      BreakerStore store = new BreakerStore(config::breakerConfig);
      try (Connection c = Sql.connect(config)) {
        BreakerStore.Batch b = apply(store, c);
        var s = b.snapshots().get(dependency);
        System.out.println(
            "Breaker "
                + dependency
                + " is now "
                + s.state()
                + (s.retryAt() != null ? " until " + s.retryAt() : "")
                + (s.forced() != null ? " (forced)" : "")
                + "; generation "
                + s.generation()
                + ".");
      }
      return 0;
    }
  }

  @Command(
      name = "open",
      mixinStandardHelpOptions = true,
      description = "Forces a breaker OPEN: no worker calls the dependency; its jobs wait.")
  static final class Open extends Change {
    @Option(names = "--for-ms", description = "Re-open automatically (half-open) after this long.")
    Long forMs;

    @Override
    BreakerStore.Batch apply(BreakerStore store, Connection c) throws Exception {
      Instant until = forMs == null ? null : Instant.now().plus(Duration.ofMillis(forMs));
      return store.force(c, dependency, BreakerState.OPEN, until);
    }
  }

  @Command(
      name = "close",
      mixinStandardHelpOptions = true,
      description = "Forces a breaker CLOSED: calls go through whatever the failures.")
  static final class Close extends Change {
    @Override
    BreakerStore.Batch apply(BreakerStore store, Connection c) throws Exception {
      return store.force(c, dependency, BreakerState.CLOSED, null);
    }
  }

  @Command(
      name = "reset",
      mixinStandardHelpOptions = true,
      description = "Resets a breaker to an empty, automatic CLOSED state.")
  static final class Reset extends Change {
    @Override
    BreakerStore.Batch apply(BreakerStore store, Connection c) throws Exception {
      return store.reset(c, dependency);
    }
  }
}
