package dev.ferry.core.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceContextTest {
  private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void validTraceparent_isKept_andItsTraceIdRead() {
    assertThat(TraceContext.validOrNull(VALID)).isEqualTo(VALID);
    assertThat(TraceContext.validOrNull(" " + VALID + " ")).isEqualTo(VALID);
    assertThat(TraceContext.traceId(VALID)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    // A later version may append fields; the known part is kept.
    assertThat(TraceContext.validOrNull("01" + VALID.substring(2) + "-extra"))
        .isEqualTo("01" + VALID.substring(2));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"
      })
  void invalidTraceparent_isNull(String value) {
    assertThat(TraceContext.validOrNull(value)).isNull();
  }

  @RepeatedTest(20)
  void freshTraces_areValidAndDistinct() {
    String a = TraceContext.fresh();
    String b = TraceContext.fresh();
    assertThat(TraceContext.validOrNull(a)).isEqualTo(a);
    assertThat(TraceContext.traceId(a)).isNotEqualTo(TraceContext.traceId(b));
  }

  @Test
  void headers_roundTrip_andAMalformedHeaderReadsAsNone() {
    RecordHeaders h = new RecordHeaders();
    TraceContext.toHeaders(h, VALID);
    TraceContext.toHeaders(h, VALID);
    assertThat(h.toArray()).hasSize(1);
    assertThat(TraceContext.fromHeaders(h)).isEqualTo(VALID);
    RecordHeaders bad = new RecordHeaders();
    bad.add(TraceContext.HEADER, "nope".getBytes(StandardCharsets.US_ASCII));
    assertThat(TraceContext.fromHeaders(bad)).isNull();
    assertThat(TraceContext.fromHeaders(new RecordHeaders())).isNull();
  }
}
