package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad handler and outcome settings stop a worker before it connects to anything (the bootstrap
 * server here does not exist, so reaching Kafka would fail differently and much later).
 */
class WorkerConfigTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "HTTP_DENY               | 10.0.0.0/99      | http.deny / FERRY_HTTP_DENY / --http-deny",
        "HTTP_ALLOW              | api.example.com:x | http.allow / FERRY_HTTP_ALLOW / --http-allow",
        "HTTP_MAX_RESPONSE_BYTES | -1               | http.max.response.bytes",
        "HTTP_FOLLOW_REDIRECTS   | sometimes        | http.follow.redirects",
        "HANDLERS_DISABLED       | http,ftp         | handlers.disabled",
        "RESULT_MAX_BYTES        | 0                | result.max.bytes",
      })
  void badSetting_failsStartNamingIt(Setting setting, String value, String named) {
    FerryConfig config =
        FerryConfig.defaults()
            .with(Setting.KAFKA_BOOTSTRAP_SERVERS, "no-such-host.invalid:9")
            .with(Setting.STARTUP_TIMEOUT_MS, "1")
            .with(setting, value);
    assertThatThrownBy(() -> Worker.start(config, List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(named);
  }
}
