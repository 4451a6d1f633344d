package dev.ferry.orchestrator.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void dataErrorsOfPostgres_areRecordFailures() {
    assertThat(Failures.classify(new SQLException("unsupported Unicode escape", "22P05")))
        .isEqualTo(Failures.Kind.RECORD);
    assertThat(Failures.classify(new SQLException("dup", "23505"))).isEqualTo(Failures.Kind.RECORD);
    assertThat(Failures.classify(new SQLException("index row too big", "54000")))
        .isEqualTo(Failures.Kind.RECORD);
    assertThat(Failures.classify(new RuntimeException(new ArithmeticException("long overflow"))))
        .isEqualTo(Failures.Kind.RECORD);
  }

  @Test
  void outagesConflictsAndTimeouts_areTransient() {
    for (String state : new String[] {"08006", "40001", "40P01", "57P01", "57014", "53300"}) {
      assertThat(Failures.classify(new SQLException("x", state)))
          .as(state)
          .isEqualTo(Failures.Kind.TRANSIENT);
    }
    assertThat(Failures.classify(new SQLException("I/O", null, new IOException("reset"))))
        .isEqualTo(Failures.Kind.TRANSIENT);
    assertThat(Failures.classify(new ExecutionException(new TimeoutException("t"))))
        .isEqualTo(Failures.Kind.TRANSIENT);
    assertThat(Failures.classify(new ExecutionException(new NotLeaderOrFollowerException("n"))))
        .isEqualTo(Failures.Kind.TRANSIENT);
  }

  @Test
  void kafkaRefusingARecord_isARecordFailure_andTheReasonIsTheCausesMessage() {
    ExecutionException e = new ExecutionException(new RecordTooLargeException("too big\nreally"));
    assertThat(Failures.classify(e)).isEqualTo(Failures.Kind.RECORD);
    assertThat(Failures.reason(e)).isEqualTo("too big\\nreally");
  }

  @Test
  void bugs_areUnknown() {
    assertThat(Failures.classify(new NullPointerException())).isEqualTo(Failures.Kind.UNKNOWN);
    assertThat(Failures.classify(new SQLException("syntax", "42601")))
        .isEqualTo(Failures.Kind.UNKNOWN);
  }
}
