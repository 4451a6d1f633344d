package dev.ferry.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InstantsTest {
  @Test
  void agreesWithTheJdkOnEveryPrecisionThatToStringWrites() {
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      long seconds = r.nextLong(-2_000_000_000L, 8_000_000_000L);
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> r.nextInt(1000) * 1_000_000;
            case 2 -> r.nextInt(1_000_000) * 1000;
            default -> r.nextInt(1_000_000_000);
          };
      Instant expected = Instant.ofEpochSecond(seconds, nanos);
      assertThat(Instants.parse(expected.toString())).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2026-11-26T07:45:12.5Z",
        "2026-11-26T07:45:12.1234Z",
        "2024-02-29T23:59:59.999999999Z",
        "2026-11-26T07:45:12+02:00",
        "2026-11-26T07:45:12.123+00:00",
        "1969-12-31T23:59:59Z",
        "2026-11-26T07:45:12.Z",
        "2016-12-31T23:59:60Z"
      })
  void otherValidShapesAsTheJdkParsesThem(String s) {
    assertThat(Instants.parse(s)).isEqualTo(Instant.parse(s));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "2026-11-26",
        "2026-13-26T07:45:12Z",
        "2026-02-30T07:45:12Z",
        "2026-11-26T24:45:12Z",
        "2026-11-26T07:4a:12Z",
        "2026-11-26T07:45:12.1234567890Z",
        "2026-11-26 07:45:12Z",
        "x026-11-26T07:45:12Z"
      })
  void rejectsWhatTheJdkRejects(String s) {
    assertThatThrownBy(() -> Instants.parse(s)).isInstanceOf(DateTimeParseException.class);
  }
}
