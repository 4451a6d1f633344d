package dev.ferry.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import org.junit.jupiter.api.Test;

class SafeTextTest {
  @Test
  void echo_escapesControlCharactersAndCaps() {
    assertThat(SafeText.echo("a\r\nb\u0000c\u0085d\u2028"))
        .isEqualTo("a\\r\\nb\\u0000c\\u0085d\\u2028");
    assertThat(SafeText.echo("x".repeat(50), 10))
        .isEqualTo("x".repeat(10) + "…(40 more characters)");
    assertThat(SafeText.echo("\uD83D\uDE00 ok")).isEqualTo("\uD83D\uDE00 ok");
    assertThat(SafeText.echo("lone \uD800")).isEqualTo("lone \\ud800");
  }

  @Test
  void storable_escapesNulAndReplacesLoneSurrogates_keepsLineBreaks() {
    assertThat(SafeText.storable("a\u0000b\nc\uDC00", 100)).isEqualTo("a\\u0000b\nc\uFFFD");
    String ok = "fine\ntext";
    assertThat(SafeText.storable(ok, 100)).isSameAs(ok);
    assertThat(SafeText.error("e".repeat(SafeText.ERROR_CHARS + 5)))
        .endsWith("…(5 more characters)");
  }

  @Test
  void storableJson_fixesNestedStringsAndFieldNames_andLeavesCleanTreesAlone() {
    JsonNode dirty = FerryJson.parse("{\"a\":[\"x\\u0000\",{\"k\\u0000\":\"\\ud800\"}],\"n\":1}");
    JsonNode fixed = SafeText.storable(dirty);
    assertThat(FerryJson.text(fixed))
        .isEqualTo("{\"a\":[\"x\\\\u0000\",{\"k\\\\u0000\":\"\uFFFD\"}],\"n\":1}");
    JsonNode clean = FerryJson.parse("{\"a\":\"b\"}");
    assertThat(SafeText.storable(clean)).isSameAs(clean);
  }
}
