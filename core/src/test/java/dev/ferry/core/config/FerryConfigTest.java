package dev.ferry.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FerryConfigTest {
  @TempDir Path dir;

  @Test
  void kafkaPropertiesCanBeAddedToDefaults() {
    FerryConfig c =
        FerryConfig.defaults()
            .withKafka("fetch.min.bytes", "65536")
            .with(Setting.WORKER_CONCURRENCY, "8")
            .withKafka("linger.ms", "0");
    assertThat(c.kafkaProperties())
        .containsEntry("fetch.min.bytes", "65536")
        .containsEntry("linger.ms", "0");
    assertThat(c.get(Setting.WORKER_CONCURRENCY)).isEqualTo("8");
  }

  @Test
  void flagsBeatEnvironmentBeatFileBeatDefaults() throws Exception {
    Path file = dir.resolve("ferry.properties");
    Files.writeString(
        file,
        """
        worker.concurrency=3
        topic.prefix=file.
        db.user=file-user
        kafka.security.protocol=SASL_SSL
        """);
    FerryConfig c =
        FerryConfig.load(
            Map.of(Setting.WORKER_CONCURRENCY, "9"),
            Map.of(
                "FERRY_WORKER_CONCURRENCY",
                "5",
                "FERRY_TOPIC_PREFIX",
                "env.",
                "FERRY_KAFKA_SASL_MECHANISM",
                "PLAIN"),
            file);
    assertThat(c.getInt(Setting.WORKER_CONCURRENCY)).isEqualTo(9);
    assertThat(c.topicPrefix()).isEqualTo("env.");
    assertThat(c.get(Setting.DB_USER)).isEqualTo("file-user");
    assertThat(c.get(Setting.JOB_MAX_ATTEMPTS)).isEqualTo("5");
    assertThat(c.kafkaProperties())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry("bootstrap.servers", "localhost:9092");
  }

  @Test
  void bootstrapServersComeFromTheirOwnVariable() {
    FerryConfig c =
        FerryConfig.load(Map.of(), Map.of("FERRY_KAFKA_BOOTSTRAP_SERVERS", "k1:9092"), null);
    assertThat(c.kafkaProperties()).containsEntry("bootstrap.servers", "k1:9092");
  }

  @Test
  void badValues_nameTheSettingAndTheValue() {
    FerryConfig c = FerryConfig.load(Map.of(), Map.of("FERRY_WORKER_CONCURRENCY", "lots"), null);
    assertThatThrownBy(() -> c.getInt(Setting.WORKER_CONCURRENCY))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "worker.concurrency / FERRY_WORKER_CONCURRENCY / --worker-concurrency must be"
                + " an integer between 1 and 1000000 but was 'lots'");
    FerryConfig j = FerryConfig.defaults().with(Setting.BACKOFF_JITTER, "3");
    assertThatThrownBy(j::backoff)
        .hasMessageContaining("backoff.jitter")
        .hasMessageContaining("'3'");
    FerryConfig s = FerryConfig.defaults().with(Setting.BACKOFF_STRATEGY, "random");
    assertThatThrownBy(s::backoff)
        .hasMessageContaining("exponential, linear or fixed but was 'random'");
  }

  @Test
  void unknownKeyInFile_isAnError() throws Exception {
    Path file = dir.resolve("bad.properties");
    Files.writeString(file, "worker.concurency=3\n");
    assertThatThrownBy(() -> FerryConfig.load(Map.of(), Map.of(), file))
        .hasMessageContaining("unknown setting 'worker.concurency'");
  }

  @Test
  void missingFile_isAnErrorNamingIt() {
    Path file = dir.resolve("nope.properties");
    assertThatThrownBy(() -> FerryConfig.load(Map.of(), Map.of(), file))
        .hasMessageContaining("cannot read config file")
        .hasMessageContaining("nope.properties");
  }

  @Test
  void describe_masksSecrets() {
    FerryConfig c =
        FerryConfig.load(
            Map.of(Setting.DB_PASSWORD, "hunter2"),
            Map.of("FERRY_KAFKA_SASL_JAAS_CONFIG", "x password=\"p\""),
            null);
    assertThat(c.describe().toString()).doesNotContain("hunter2").doesNotContain("password=\"p\"");
    assertThat(c.describe()).containsEntry("db.password", "****");
  }

  @Test
  void describe_masksPrivateKeysAndPassphrases_butNotCertificates() {
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of(
                "FERRY_KAFKA_SSL_KEYSTORE_KEY", "-----BEGIN PRIVATE KEY-----abc",
                "FERRY_KAFKA_SSL_KEY_PASSWORD", "kp",
                "FERRY_KAFKA_SASL_OAUTHBEARER_ASSERTION_PRIVATE_KEY_PASSPHRASE", "pp",
                "FERRY_KAFKA_SSL_TRUSTSTORE_CERTIFICATES", "-----BEGIN CERTIFICATE-----pub"),
            null);
    Map<String, String> d = c.describe();
    assertThat(d)
        .containsEntry("kafka.ssl.keystore.key", "****")
        .containsEntry("kafka.ssl.key.password", "****")
        .containsEntry("kafka.sasl.oauthbearer.assertion.private.key.passphrase", "****")
        .containsEntry("kafka.ssl.truststore.certificates", "-----BEGIN CERTIFICATE-----pub");
    assertThat(d.toString()).doesNotContain("PRIVATE KEY-----abc").doesNotContain("=pp");
    assertThat(FerryConfig.isSecretKafka("some.custom.passphrase")).isTrue();
    assertThat(FerryConfig.isSecretKafka("linger.ms")).isFalse();
  }

  @Test
  void passwordFile_suppliesThePassword_withoutItsTrailingNewline() throws Exception {
    Path secret = dir.resolve("db-password");
    Files.writeString(secret, "s3cr3t with spaces\n");
    FerryConfig c =
        FerryConfig.load(Map.of(), Map.of("FERRY_DB_PASSWORD_FILE", secret.toString()), null);
    assertThat(c.get(Setting.DB_PASSWORD)).isEqualTo("s3cr3t with spaces");
    assertThat(c.describe().toString()).doesNotContain("s3cr3t");
  }

  @Test
  void passwordFile_unreadableOrNextToAPassword_isAnErrorNamingTheSetting() {
    Path missing = dir.resolve("no-such-secret");
    assertThatThrownBy(
            () ->
                FerryConfig.load(
                    Map.of(), Map.of("FERRY_DB_PASSWORD_FILE", missing.toString()), null))
        .hasMessageContaining("FERRY_DB_PASSWORD_FILE")
        .hasMessageContaining("no-such-secret");
    assertThatThrownBy(
            () ->
                FerryConfig.load(
                    Map.of(Setting.DB_PASSWORD, "x"),
                    Map.of("FERRY_DB_PASSWORD_FILE", missing.toString()),
                    null))
        .hasMessageContaining("not both");
  }

  @Test
  void describe_masksAPasswordInTheDatabaseUrl() {
    FerryConfig c =
        FerryConfig.load(
            Map.of(
                Setting.DB_URL, "jdbc:postgresql://db/ferry?user=ferry&password=hunter2&ssl=true"),
            Map.of(),
            null);
    assertThat(c.describe().get("db.url"))
        .isEqualTo("jdbc:postgresql://db/ferry?user=ferry&password=****&ssl=true");
  }

  @Test
  void perTypeOverrides_fromFileAndEnvironment() throws Exception {
    Path file = dir.resolve("types.properties");
    Files.writeString(
        file,
        """
        job.max.attempts=4
        type.resize-image.max.attempts=9
        type.resize-image.backoff.strategy=fixed
        type.resize-image.backoff.initial.ms=250
        type.resize-image.backoff.max.ms=250
        type.http.timeout.ms=7000
        """);
    FerryConfig c =
        FerryConfig.load(
            Map.of(),
            Map.of(
                "FERRY_TYPE_RESIZE_IMAGE_MAX_ATTEMPTS",
                "11",
                "FERRY_TYPE_HTTP_BACKOFF_JITTER",
                "0"),
            file);
    JobDefaults resize = c.jobDefaults("resize-image");
    assertThat(resize.maxAttempts()).as("environment beats file").isEqualTo(11);
    assertThat(resize.backoff().strategy()).isEqualTo(dev.ferry.core.retry.BackoffStrategy.FIXED);
    assertThat(resize.backoff().initialMs()).isEqualTo(250);
    JobDefaults http = c.jobDefaults("http");
    assertThat(http.timeoutMs()).isEqualTo(7000);
    assertThat(http.backoff().jitter()).isZero();
    assertThat(http.maxAttempts()).isEqualTo(4);
    JobDefaults other = c.jobDefaults("noop");
    assertThat(other.maxAttempts()).isEqualTo(4);
    assertThat(other.timeoutMs()).isEqualTo(30_000);
    assertThat(other.backoff()).isEqualTo(dev.ferry.core.retry.BackoffPolicy.DEFAULT);
  }

  @Test
  void perTypeOverrides_badValuesNameTheType() throws Exception {
    FerryConfig c = FerryConfig.load(Map.of(), Map.of("FERRY_TYPE_HTTP_MAX_ATTEMPTS", "0"), null);
    assertThatThrownBy(() -> c.jobDefaults("http"))
        .hasMessageContaining("job.max.attempts")
        .hasMessageContaining("for type 'http'");
    Path file = dir.resolve("t.properties");
    Files.writeString(file, "type.http.retries=3\n");
    assertThatThrownBy(() -> FerryConfig.load(Map.of(), Map.of(), file))
        .hasMessageContaining("unknown per-type setting 'type.http.retries'");
  }

  @Test
  void breakerSettings_haveDefaultsAndPerDependencyOverrides() throws Exception {
    Path file = dir.resolve("breakers.properties");
    Files.writeString(
        file,
        """
        breaker.open.ms=5000
        breaker.open.max.ms=60000
        dependency.payments-api.breaker.minimum.calls=10
        dependency.127.0.0.1\\:8080.breaker.window.type=time
        """);
    FerryConfig c =
        FerryConfig.load(
            Map.of(), Map.of("FERRY_DEPENDENCY_PAYMENTS_API_BREAKER_HALF_OPEN_CALLS", "1"), file);
    var payments = c.breakerConfig("payments-api");
    assertThat(payments.minimumCalls()).isEqualTo(10);
    assertThat(payments.halfOpenCalls()).isEqualTo(1);
    assertThat(payments.openMs()).isEqualTo(5000);
    assertThat(c.breakerConfig("127.0.0.1:8080").windowType())
        .isEqualTo(dev.ferry.core.breaker.WindowType.TIME);
    assertThat(FerryConfig.defaults().breakerConfig("x"))
        .isEqualTo(dev.ferry.core.breaker.BreakerConfig.DEFAULT);
    FerryConfig bad = FerryConfig.defaults().with(Setting.BREAKER_WINDOW_TYPE, "sliding");
    assertThatThrownBy(() -> bad.breakerConfig("x"))
        .hasMessageContaining("count or time")
        .hasMessageContaining("for dependency 'x'");
  }

  @Test
  void spellingsFollowOneRule() {
    assertThat(Setting.WORKER_CONCURRENCY.env()).isEqualTo("FERRY_WORKER_CONCURRENCY");
    assertThat(Setting.WORKER_CONCURRENCY.flag()).isEqualTo("--worker-concurrency");
    assertThat(Setting.KAFKA_BOOTSTRAP_SERVERS.env()).isEqualTo("FERRY_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(Setting.DB_URL.env()).isEqualTo("FERRY_DB_URL");
    assertThat(Setting.TOPIC_PREFIX.env()).isEqualTo("FERRY_TOPIC_PREFIX");
  }

  @Test
  void perNameCaches_areBounded_whateverNamesJobsBring() {
    FerryConfig c = FerryConfig.defaults();
    for (int i = 0; i < FerryConfig.MAX_CACHED + 5_000; i++) {
      assertThat(c.breakerConfig("dep-" + i)).isEqualTo(c.breakerConfig(null));
      assertThat(c.jobDefaults("type-" + i)).isEqualTo(c.jobDefaults(null));
    }
    assertThat(c.cachedSettings()).isEqualTo(2 * FerryConfig.MAX_CACHED);
  }
}
