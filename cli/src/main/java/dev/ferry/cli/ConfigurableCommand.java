package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Base of commands that read Ferry's configuration. Every {@link Setting} becomes a flag
 * (added by {@link #addSettingOptions}), next to its environment variable and properties key.
 */
abstract class ConfigurableCommand {
  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Properties file with settings (also FERRY_CONFIG).")
  Path configFile;

  /** Adds one {@code --flag} per setting to a command's spec. */
  static void addSettingOptions(CommandSpec spec) {
    for (Setting s : Setting.values()) {
      String shownDefault = s.secret() ? "(none)" : "'" + s.defaultValue() + "'";
      spec.addOption(
          OptionSpec.builder(s.flag())
              .paramLabel(s.secret() ? "SECRET" : "VALUE")
              .type(String.class)
              .description(s.description() + ". Env " + s.env() + ", key " + s.key()
                  + ", default " + shownDefault + ".")
              .build());
    }
  }

  /** The resolved configuration: flags, then environment, then file, then defaults. */
  FerryConfig config() {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      OptionSpec o = spec.findOption(s.flag());
      if (o != null && o.getValue() != null) {
        flags.put(s, o.getValue());
      }
    }
    return FerryConfig.load(flags, System.getenv(), configFile);
  }
}
