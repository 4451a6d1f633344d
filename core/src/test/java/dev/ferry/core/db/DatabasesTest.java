package dev.ferry.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import org.junit.jupiter.api.Test;

class DatabasesTest {
  @Test
  void pool_hasTheDocumentedTimeoutsByDefault() {
    HikariConfig h = Databases.poolConfig(FerryConfig.defaults(), "p", null);
    assertThat(h.getConnectionTimeout()).isEqualTo(10_000);
    assertThat(h.getDataSourceProperties())
        .containsEntry("socketTimeout", "60")
        .containsEntry("tcpKeepAlive", "true");
    assertThat(h.getConnectionInitSql()).isEqualTo("SET statement_timeout = 30000");
  }

  @Test
  void pool_carriesTheConfiguredTimeouts_socketRoundedUpToSeconds() {
    FerryConfig c =
        FerryConfig.defaults()
            .with(Setting.DB_CONNECTION_TIMEOUT_MS, "2500")
            .with(Setting.DB_SOCKET_TIMEOUT_MS, "90001")
            .with(Setting.DB_STATEMENT_TIMEOUT_MS, "0");
    HikariConfig h = Databases.poolConfig(c, "p", null);
    assertThat(h.getConnectionTimeout()).isEqualTo(2500);
    assertThat(h.getDataSourceProperties()).containsEntry("socketTimeout", "91");
    assertThat(h.getConnectionInitSql()).isEqualTo("SET statement_timeout = 0");
    FerryConfig none = c.with(Setting.DB_SOCKET_TIMEOUT_MS, "0");
    assertThat(Databases.poolConfig(none, "p", null).getDataSourceProperties())
        .containsEntry("socketTimeout", "0");
  }
}
