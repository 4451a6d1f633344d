package dev.ferry.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.flow.Rate;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Reading a limit change and writing a rate, without a database. */
class ConsoleLimitsTest {
  private static ConsoleLimits.Change change(String json) throws Exception {
    JsonNode body = Fmt.JSON.readTree(json);
    return ConsoleLimits.Change.fromJson(body);
  }

  @Test
  void absentFieldsStay_nullFieldsClear_valuesSet() throws Exception {
    assertThat(change("{\"rate\":\"50/1s\"}"))
        .isEqualTo(
            new ConsoleLimits.Change(new Rate(50, Duration.ofSeconds(1)), true, null, false));
    assertThat(change("{\"maxConcurrent\":10}"))
        .isEqualTo(new ConsoleLimits.Change(null, false, 10, true));
    assertThat(change("{\"rate\":null,\"maxConcurrent\":null}"))
        .isEqualTo(new ConsoleLimits.Change(null, true, null, true));
  }

  @Test
  void badValues_areRefusedNamingWhatIsWrong() {
    assertThatThrownBy(() -> change("{}")).hasMessageContaining("give 'rate' and/or");
    assertThatThrownBy(() -> change("{\"rate\":\"0/0s\"}"))
        .hasMessageContaining("limit must be at least 1 but was 0");
    assertThatThrownBy(() -> change("{\"rate\":\"5/0s\"}"))
        .hasMessageContaining("period must be from 1 ms to 24 h");
    assertThatThrownBy(() -> change("{\"rate\":\"abc\"}"))
        .hasMessageContaining("a rate is <limit>/<period>")
        .hasMessageContaining("'abc'");
    assertThatThrownBy(() -> change("{\"rate\":\"" + "9".repeat(500) + "\"}"))
        .hasMessageContaining("not 500 characters");
    assertThatThrownBy(() -> change("{\"rate\":50}")).hasMessageContaining("must be a string");
    for (String max : new String[] {"0", "-3", "\"10\"", "1.5", "3000000000", "true"}) {
      assertThatThrownBy(() -> change("{\"maxConcurrent\":" + max + "}"))
          .as(max)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("max concurrent must be a whole number from 1 to");
    }
    assertThatThrownBy(() -> change("{\"rate\":\"1/1s\",\"max\":3}"))
        .hasMessageContaining("unknown field 'max'");
    assertThatThrownBy(() -> ConsoleLimits.dependency(" "))
        .hasMessageContaining("1 to 200 characters, not empty");
    assertThatThrownBy(() -> ConsoleLimits.dependency("d".repeat(201)))
        .hasMessageContaining("not 201");
    assertThat(ConsoleLimits.dependency("d".repeat(200))).hasSize(200);
  }

  @Test
  void aRateIsWrittenInItsLargestWholeUnit_andReadsBack() {
    for (String text :
        new String[] {"50/1s", "20/500ms", "1000/1m", "7/90s", "10000/1h", "3/24h"}) {
      Rate r = Rate.parse(text);
      assertThat(Fmt.rate(r)).isEqualTo(text);
      assertThat(Rate.parse(Fmt.rate(r))).isEqualTo(r);
    }
    assertThat(Fmt.rate(Rate.parse("100/1000ms"))).isEqualTo("100/1s");
    assertThat(Fmt.rate(null)).isNull();
  }
}
