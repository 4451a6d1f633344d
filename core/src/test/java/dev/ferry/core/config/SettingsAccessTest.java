package dev.ferry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Typed reads within each setting's declared rule, and the one per-name override mechanism. */
class SettingsAccessTest {
  @TempDir Path dir;

  @Test
  void typedGetters_checkTheRuleTheSettingDeclares() {
    FerryConfig c = FerryConfig.defaults().with(Setting.APPLIER_THREADS, "65");
    assertThatThrownBy(() -> c.getInt(Setting.APPLIER_THREADS))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "applier.threads / FERRY_APPLIER_THREADS / --applier-threads must be"
                + " an integer between 1 and 64 but was '65'");
    assertThat(c.with(Setting.APPLIER_THREADS, " 64 ").getInt(Setting.APPLIER_THREADS))
        .isEqualTo(64);
    assertThatThrownBy(
            () ->
                FerryConfig.defaults()
                    .with(Setting.BACKOFF_JITTER, "1.5")
                    .getDouble(Setting.BACKOFF_JITTER))
        .hasMessageContaining("a number between 0.0 and 1.0");
    assertThat(FerryConfig.defaults().getLong(Setting.RETENTION_MS)).isEqualTo(604_800_000L);
  }

  @Test
  void typedGetters_refuseASettingOfAnotherKind() {
    assertThatThrownBy(() -> FerryConfig.defaults().getInt(Setting.DB_URL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("db.url");
    assertThatThrownBy(() -> FerryConfig.defaults().getInt(Setting.RETENTION_MS))
        .as("a long setting is not read as an int")
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FerryConfig.defaults().getDouble(Setting.WORKER_CONCURRENCY))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void everyIntegerSettingsDefault_readsAsItsType() {
    FerryConfig c = FerryConfig.defaults();
    for (Setting s : Setting.values()) {
      if (s.rule() instanceof SettingRule.IntRange) {
        assertThat(c.getLong(s)).as(s.key()).isEqualTo(Long.parseLong(s.defaultValue()));
      } else if (s.rule() instanceof SettingRule.NumberRange) {
        assertThat(c.getDouble(s)).as(s.key()).isEqualTo(Double.parseDouble(s.defaultValue()));
      }
    }
  }

  @Test
  void typesAndDependencies_areOverriddenAlike_environmentBeforeFile() throws Exception {
    Path file = dir.resolve("o.properties");
    Files.writeString(
        file,
        """
        type.a.b.timeout.ms=100
        dependency.a.b.breaker.open.ms=100
        type.img.backoff.max.ms=7000
        dependency.api.breaker.open.max.ms=70000
        """);
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of(
                "FERRY_TYPE_A_B_TIMEOUT_MS", "200",
                "FERRY_DEPENDENCY_A_B_BREAKER_OPEN_MS", "200"),
            file);
    assertThat(c.jobDefaults("a.b").timeoutMs()).isEqualTo(200);
    assertThat(c.breakerConfig("a.b").openMs()).isEqualTo(200);
    assertThat(c.jobDefaults("img").backoff().maxMs())
        .as("not read as .max.ms of backoff")
        .isEqualTo(7000);
    assertThat(c.breakerConfig("api").openMaxMs()).isEqualTo(70_000);
    assertThat(c.breakerConfig("api").openMs()).isEqualTo(30_000);
    assertThat(c.jobDefaults("other")).isEqualTo(FerryConfig.defaults().jobDefaults(null));
  }

  @Test
  void onlyTheirScopesSettings_canBeOverridden() {
    assertThatThrownBy(
            () ->
                FerryConfig.load(
                    Map.of(), Map.of("FERRY_DEPENDENCY_X_BREAKER_REPORT_MS", "5"), null))
        .hasMessageContaining(
            "unknown per-dependency setting FERRY_DEPENDENCY_X_BREAKER_REPORT_MS");
    assertThatThrownBy(
            () -> FerryConfig.load(Map.of(), Map.of("FERRY_TYPE_X_WORKER_CONCURRENCY", "5"), null))
        .hasMessageContaining("unknown per-type setting FERRY_TYPE_X_WORKER_CONCURRENCY");
  }

  @Test
  void everySetting_hasAGroupWithAHeading() {
    for (Setting s : Setting.values()) {
      assertThat(s.group().heading()).as(s.key()).isNotBlank();
    }
  }
}
