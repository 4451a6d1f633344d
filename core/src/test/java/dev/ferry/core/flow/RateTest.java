package dev.ferry.core.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RateTest {
  @ParameterizedTest
  @CsvSource({
    "100/1s, 100, 1000",
    "50/500ms, 50, 500",
    "1000/1m, 1000, 60000",
    "10000/1h, 10000, 3600000",
    "7/s, 7, 1000",
    " 3 / 2S , 3, 2000"
  })
  void parses(String text, int limit, long periodMs) {
    assertThat(Rate.parse(text)).isEqualTo(new Rate(limit, Duration.ofMillis(periodMs)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0/0s", "0/1s", "10/0s", "10/2d", "ten/1s", "10", "10/1x", "", "-1/1s"})
  void refusesWithAReason(String text) {
    assertThatThrownBy(() -> Rate.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageMatching(".*(rate|limit|period).*");
  }

  @ParameterizedTest
  @ValueSource(strings = {"10/25h"})
  void periodsOverADay_areRefused(String text) {
    assertThatThrownBy(() -> Rate.parse(text)).hasMessageContaining("from 1 ms to 24 h");
  }
}
