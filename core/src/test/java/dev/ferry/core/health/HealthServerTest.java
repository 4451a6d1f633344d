package dev.ferry.core.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private static final HealthServer.Report OK =
      new HealthServer.Report(true, true, JsonNodeFactory.instance.objectNode());

  @Test
  void aTakenPort_failsWithTheSettingToChange_insteadOfMovingSilently() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      FerryConfig config =
          FerryConfig.defaults()
              .with(Setting.HEALTH_HOST, "127.0.0.1")
              .with(Setting.HEALTH_PORT, Integer.toString(taken.getLocalPort()));
      assertThatThrownBy(() -> HealthServer.start(config, 9400, () -> OK))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("the health port 127.0.0.1:" + taken.getLocalPort() + " is in use")
          .hasMessageContaining("health.port / FERRY_HEALTH_PORT / --health-port")
          .hasMessageContaining("0 for any free port");
    }
  }

  @Test
  void portZero_takesAFreePort_andMinusOneIsOff() {
    FerryConfig any = FerryConfig.defaults().with(Setting.HEALTH_PORT, "0");
    try (HealthServer s = HealthServer.start(any, 9400, () -> OK)) {
      assertThat(s.port()).isPositive();
    }
    assertThat(
            HealthServer.start(
                FerryConfig.defaults().with(Setting.HEALTH_PORT, "-1"), 9400, () -> OK))
        .isNull();
  }
}
