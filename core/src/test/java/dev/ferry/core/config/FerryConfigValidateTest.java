package dev.ferry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FerryConfig#validate()}: every setting and override is checked at start. */
class FerryConfigValidateTest {
  @TempDir Path dir;

  private static FerryConfig env(String name, String value) {
    return FerryConfig.load(Map.of(), Map.of(name, value), null);
  }

  @Test
  void defaults_areValid() {
    assertThat(FerryConfig.defaults().validate()).isNotNull();
  }

  @Test
  void everySettingsDefault_passesItsOwnRule() {
    for (Setting s : Setting.values()) {
      assertThat(s.rule().violation(s.defaultValue())).as(s.key()).isNull();
    }
  }

  @Test
  void typeOverride_outOfRange_namesTheVariableAndValue() {
    FerryConfig c = env("FERRY_TYPE_X_MAX_ATTEMPTS", "0");
    assertThatThrownBy(c::validate)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "FERRY_TYPE_X_MAX_ATTEMPTS (overrides job.max.attempts) must be"
                + " an integer between 1 and 10000 but was '0'");
  }

  @Test
  void typeOverride_notANumber_namesTheFileKey() throws Exception {
    Path file = dir.resolve("f.properties");
    Files.writeString(file, "type.resize-image.timeout.ms=soon\n");
    FerryConfig c = FerryConfig.load(Map.of(), Map.of(), file);
    assertThatThrownBy(c::validate)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("type.resize-image.timeout.ms")
        .hasMessageContaining("'soon'");
  }

  @Test
  void typeOverride_badStrategy_isRefused() {
    FerryConfig c = env("FERRY_TYPE_X_BACKOFF_STRATEGY", "random");
    assertThatThrownBy(c::validate)
        .hasMessageContaining("FERRY_TYPE_X_BACKOFF_STRATEGY")
        .hasMessageContaining("exponential, fixed, linear");
  }

  @Test
  void typeOverrides_validAlone_butNotTogether_areRefusedWithTheType() {
    // Each value is in range; a cap below the first delay is not a policy.
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of("FERRY_TYPE_X_BACKOFF_INITIAL_MS", "5000", "FERRY_TYPE_X_BACKOFF_MAX_MS", "100"),
            null);
    assertThatThrownBy(c::validate)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("backoff.maxMs")
        .hasMessageContaining("for type 'X'");
  }

  @Test
  void validOverrides_pass_andApply() {
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of(
                "FERRY_TYPE_X_MAX_ATTEMPTS", "3", "FERRY_DEPENDENCY_X_BREAKER_MINIMUM_CALLS", "7"),
            null);
    assertThat(c.validate().jobDefaults("x").maxAttempts()).isEqualTo(3);
    assertThat(c.breakerConfig("x").minimumCalls()).isEqualTo(7);
  }

  @Test
  void breakerOverride_notANumber_namesTheVariable() {
    FerryConfig c = env("FERRY_DEPENDENCY_X_BREAKER_MINIMUM_CALLS", "abc");
    assertThatThrownBy(c::validate)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "FERRY_DEPENDENCY_X_BREAKER_MINIMUM_CALLS (overrides"
                + " breaker.minimum.calls) must be an integer")
        .hasMessageContaining("but was 'abc'");
  }

  @Test
  void breakerOverride_outOfRange_namesTheFileKey() throws Exception {
    Path file = dir.resolve("b.properties");
    Files.writeString(file, "dependency.payments.breaker.failure.rate.threshold=150\n");
    FerryConfig c = FerryConfig.load(Map.of(), Map.of(), file);
    assertThatThrownBy(c::validate)
        .hasMessageContaining("dependency.payments.breaker.failure.rate.threshold")
        .hasMessageContaining("'150'");
  }

  @Test
  void breakerOverrides_inconsistentTogether_nameTheDependency() {
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of(
                "FERRY_DEPENDENCY_PAY_BREAKER_OPEN_MS", "60000",
                "FERRY_DEPENDENCY_PAY_BREAKER_OPEN_MAX_MS", "1000"),
            null);
    assertThatThrownBy(c::validate)
        .hasMessageContaining("breaker.open.max.ms")
        .hasMessageContaining("for dependency 'PAY'");
  }

  @Test
  void unknownOverrideSuffix_isRefusedWhenLoaded() throws Exception {
    assertThatThrownBy(() -> env("FERRY_TYPE_X_MAX_ATTEMPTZ", "3"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown per-type setting FERRY_TYPE_X_MAX_ATTEMPTZ");
    assertThatThrownBy(() -> env("FERRY_DEPENDENCY_X_BREAKER_SIZE", "3"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown per-dependency setting FERRY_DEPENDENCY_X_BREAKER_SIZE");
    Path file = dir.resolve("u.properties");
    Files.writeString(file, "dependency.x.breaker.colour=red\n");
    assertThatThrownBy(() -> FerryConfig.load(Map.of(), Map.of(), file))
        .hasMessageContaining("unknown per-dependency setting 'dependency.x.breaker.colour'");
  }

  @Test
  void globalSettings_areRangeChecked_evenThoseReadLate() {
    assertThatThrownBy(() -> env("FERRY_RETENTION_BATCH_SIZE", "0").validate())
        .hasMessageContaining("retention.batch.size")
        .hasMessageContaining("but was '0'");
    assertThatThrownBy(() -> env("FERRY_BREAKER_REPORT_MS", "-5").validate())
        .hasMessageContaining("breaker.report.ms");
    assertThatThrownBy(() -> env("FERRY_INTAKE_DISPATCH", "maybe").validate())
        .hasMessageContaining("intake.dispatch")
        .hasMessageContaining("true or false");
    assertThatThrownBy(() -> env("FERRY_HEALTH_PORT", "70000").validate())
        .hasMessageContaining("health.port");
    assertThat(env("FERRY_HEALTH_PORT", "-1").validate()).isNotNull();
  }

  @Test
  void socketTimeout_mustOutlastTheDispatcherWaitAndStatements() {
    FerryConfig c = FerryConfig.defaults().with(Setting.DB_SOCKET_TIMEOUT_MS, "20000");
    assertThatThrownBy(c::validate)
        .hasMessageContaining("db.socket.timeout.ms")
        .hasMessageContaining("db.statement.timeout.ms (30000)");
    assertThat(c.with(Setting.DB_STATEMENT_TIMEOUT_MS, "10000").validate()).isNotNull();
    assertThat(c.with(Setting.DB_SOCKET_TIMEOUT_MS, "0").validate()).isNotNull();
  }

  @Test
  void echoedValues_haveControlCharactersEscaped_andAreCapped() {
    FerryConfig c = env("FERRY_TYPE_X_MAX_ATTEMPTS", "1\nERROR forged\u001b[31m" + "9".repeat(500));
    assertThatThrownBy(c::validate)
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .doesNotContain("\n")
                    .doesNotContain("\u001b")
                    .contains("1\\nERROR forged\\u001b[31m")
                    .contains("characters)")
                    .hasSizeLessThan(400));
  }
}
