package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.migrations.Migrations;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code ferry limits} on a real PostgreSQL: set, list, clear, bad values named. */
@ExtendWith(FerryExtension.class)
class LimitsIT {
  private static String[] cmd(FerryConfig c, String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    for (Setting s : List.of(Setting.DB_URL, Setting.DB_USER, Setting.DB_PASSWORD)) {
      a.add(s.flag() + "=" + c.get(s));
    }
    return a.toArray(String[]::new);
  }

  @Test
  void setListClear_andBadValuesNamed(FerryTestEnv env) throws Exception {
    Migrations.migrate(env.dataSource());
    FerryConfig c = env.config();
    assertThat(Harness.cli(cmd(c, "limits", "set", "payments-api", "--rate", "50/1s")).exit())
        .isZero();
    assertThat(
            Harness.cli(cmd(c, "limits", "set", "payments-api", "--max-concurrent", "10")).exit())
        .isZero();
    Harness.Run list = Harness.cli(cmd(c, "limits"));
    assertThat(list.out())
        .contains("payments-api")
        .contains("50/1000ms")
        .contains("10")
        .contains("(1 dependencies with limits)");
    Harness.Run bad = Harness.cli(cmd(c, "limits", "set", "x", "--rate", "0/0s"));
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("a rate's limit must be at least 1");
    Harness.Run none = Harness.cli(cmd(c, "limits", "set", "x"));
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("give --rate and/or --max-concurrent");
    Harness.Run notANumber = Harness.cli(cmd(c, "limits", "set", "x", "--max-concurrent", "ten"));
    assertThat(notANumber.exit()).isEqualTo(2);
    assertThat(notANumber.err()).contains("--max-concurrent must be a whole number");
    Harness.Run zero = Harness.cli(cmd(c, "limits", "set", "x", "--max-concurrent", "0"));
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.err()).contains("max concurrent must be at least 1");
    // none removes one part and keeps the other.
    assertThat(Harness.cli(cmd(c, "limits", "set", "payments-api", "--rate", "none")).exit())
        .isZero();
    assertThat(Harness.cli(cmd(c, "limits")).out())
        .contains("payments-api")
        .doesNotContain("50/1000ms");
    assertThat(Harness.cli(cmd(c, "limits", "clear", "payments-api")).exit()).isZero();
    assertThat(Harness.cli(cmd(c, "limits", "clear", "payments-api")).exit()).isEqualTo(1);
    assertThat(Harness.cli(cmd(c, "limits")).out()).contains("(0 dependencies with limits)");
  }
}
