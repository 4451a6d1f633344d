package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.SettingGroup;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Base of commands that read Ferry's configuration. Every {@link Setting} becomes a flag (added by
 * {@link #addSettingOptions}), next to its environment variable and properties key. A command's
 * help lists only the settings of the {@link #settingGroups() groups it uses}, under one heading
 * per group; the flags of the other settings are still accepted (hidden), so a script that passes
 * the same flags to every command keeps working.
 */
abstract class ConfigurableCommand {
  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with settings (also FERRY_CONFIG).")
  Path configFile;

  /** The groups of settings this command reads: the ones its help lists. */
  abstract Set<SettingGroup> settingGroups();

  /**
   * Adds one {@code --flag} per setting to a command's spec: those of {@code shown} under a heading
   * per group, the others hidden.
   */
  static void addSettingOptions(CommandSpec spec, Set<SettingGroup> shown) {
    // The settings are listed below the synopsis, by group; spelling them all out in it too
    // would take dozens of lines.
    spec.usageMessage().abbreviateSynopsis(true);
    for (SettingGroup g : SettingGroup.values()) {
      ArgGroupSpec.Builder group =
          ArgGroupSpec.builder()
              .heading("%n" + g.heading() + ":%n")
              .exclusive(false)
              .multiplicity("0..1");
      boolean visible = shown.contains(g);
      for (Setting s : Setting.values()) {
        if (s.group() != g || s.perDependencyOnly()) {
          continue;
        }
        OptionSpec option = option(s, !visible);
        if (visible) {
          group.addArg(option);
        } else {
          spec.addOption(option);
        }
      }
      if (visible && !group.args().isEmpty()) {
        spec.addArgGroup(group.build());
      }
    }
  }

  private static OptionSpec option(Setting s, boolean hidden) {
    String shownDefault =
        s.secret() || s.defaultValue().isEmpty() ? "" : " (default '" + s.defaultValue() + "')";
    // The other two spellings on a line of their own: wrapped within a line, picocli may break
    // a key such as db.password after its dot.
    return OptionSpec.builder(s.flag())
        .paramLabel(s.secret() ? "SECRET" : "VALUE")
        .type(String.class)
        .hidden(hidden)
        .description(
            capitalized(s.description()) + shownDefault + ".",
            "Env " + s.env() + ", key " + s.key() + ".")
        .build();
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /** The resolved configuration: flags, then environment, then file, then defaults. */
  FerryConfig config() {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      OptionSpec o = s.perDependencyOnly() ? null : spec.findOption(s.flag());
      if (o != null && o.getValue() != null) {
        flags.put(s, o.getValue());
      }
    }
    return FerryConfig.load(flags, System.getenv(), configFile);
  }
}
