package dev.ferry.worker.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SafeTextTest {
  @Test
  void controlCharacters_areEscaped() {
    assertThat(SafeText.of("a\r\nb\tc\u0000d\u007fe\u2028")).isEqualTo("a\\r\\nb\\tc\\u0000d\\u007fe\\u2028");
  }

  @Test
  void longText_isCappedWithACount() {
    assertThat(SafeText.of("abcdef", 4)).isEqualTo("abcd…(2 more chars)");
    assertThat(SafeText.of("x".repeat(1000))).hasSize(200 + "…(800 more chars)".length());
    assertThat(SafeText.of("abcd", 4)).isEqualTo("abcd");
    assertThat(SafeText.of(null)).isEqualTo("null");
  }

  @Test
  void aSurrogatePair_isNotCutInHalf() {
    assertThat(SafeText.of("ab\uD83D\uDE00", 3)).isEqualTo("ab…(2 more chars)");
  }
}
