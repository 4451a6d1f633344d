package dev.ferry.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RolesTest {
  @Test
  void names_areQuotedIdentifiers_withEmbeddedQuotesDoubled() {
    assertThat(Roles.quote("ferry_worker")).isEqualTo("\"ferry_worker\"");
    assertThat(Roles.quote("Robert\"); DROP TABLE x; --"))
        .isEqualTo("\"Robert\"\"); DROP TABLE x; --\"");
    assertThat(Roles.quote("user")).as("a keyword is fine once quoted").isEqualTo("\"user\"");
  }

  @Test
  void sql_usesTheQuotedNamesEverywhere() {
    String sql = Roles.sql("orch\"x", "work");
    assertThat(sql)
        .contains(
            "CREATE ROLE \"orch\"\"x\" LOGIN",
            "CREATE ROLE \"work\" LOGIN",
            "ON ferry.jobs TO \"work\";",
            "ON ferry.workers TO \"orch\"\"x\";")
        .doesNotContain("TO work;");
  }

  @Test
  void sql_picksADollarQuoteTagTheNamesDoNotHold() {
    String sql = Roles.sql("a$ferry$b", "w");
    assertThat(sql)
        .contains("DO $ferry1$ BEGIN CREATE ROLE \"a$ferry$b\" LOGIN;")
        .doesNotContain("DO $ferry$");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "public",
        "PUBLIC",
        "current_user",
        "session_user",
        "current_role",
        "none",
        "pg_monitor",
        "PG_x"
      })
  void reservedNames_areRefused(String name) {
    assertThatThrownBy(() -> Roles.sql("ferry_orchestrator", name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved")
        .hasMessageContaining("'" + name + "'");
  }

  @Test
  void emptyLongAndControlCharacterNames_areRefused() {
    assertThatThrownBy(() -> Roles.quote("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> Roles.quote(null)).hasMessageContaining("empty");
    assertThat(Roles.quote("a".repeat(63))).hasSize(65);
    assertThatThrownBy(() -> Roles.quote("a".repeat(64))).hasMessageContaining("64 bytes");
    // 32 two-byte characters: 64 bytes although only 32 characters.
    assertThatThrownBy(() -> Roles.quote("é".repeat(32))).hasMessageContaining("64 bytes");
    assertThatThrownBy(() -> Roles.quote("x\nGRANT ALL"))
        .hasMessageContaining("control characters")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").contains("x\\u000a"));
    assertThatThrownBy(() -> Roles.quote("x\u0000")).hasMessageContaining("control characters");
    assertThatThrownBy(() -> Roles.quote("x" + '\ud800')).hasMessageContaining("surrogates");
  }

  @Test
  void sameNameForBothRoles_isRefused() {
    assertThatThrownBy(() -> Roles.sql("ferry", "ferry")).hasMessageContaining("must differ");
  }
}
