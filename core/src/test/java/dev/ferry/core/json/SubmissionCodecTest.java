package dev.ferry.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.model.FailurePolicy;
import dev.ferry.core.model.Submission;
import dev.ferry.core.retry.BackoffStrategy;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubmissionCodecTest {
  private final SubmissionCodec codec = new SubmissionCodec(new SubmissionLimits(4096, 8, 5));

  private Submission decode(String json) throws InvalidSubmissionException {
    return codec.decode(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void decode_readsEveryField() throws Exception {
    UUID id = UUID.randomUUID();
    Submission s =
        decode(
            """
        {"id":"%s","type":"http","payload":{"url":"http://x"},"dependency":"payments-api",
         "maxAttempts":7,"timeoutMs":1500,"runAt":"2026-11-25T12:00:00Z","key":"page-1",
         "backoff":{"strategy":"linear","initialMs":10,"maxMs":100,"jitter":0}}
        """
                .formatted(id));
    assertThat(s.id()).isEqualTo(id);
    assertThat(s.type()).isEqualTo("http");
    assertThat(s.payload().get("url").asText()).isEqualTo("http://x");
    assertThat(s.dependency()).isEqualTo("payments-api");
    assertThat(s.maxAttempts()).isEqualTo(7);
    assertThat(s.timeoutMs()).isEqualTo(1500);
    assertThat(s.runAt()).isEqualTo(Instant.parse("2026-11-25T12:00:00Z"));
    assertThat(s.key()).isEqualTo("page-1");
    assertThat(s.backoff().strategy()).isEqualTo(BackoffStrategy.LINEAR);
    assertThat(s.backoff().initialMs()).isEqualTo(10);
    assertThat(s.backoff().maxMs()).isEqualTo(100);
  }

  @Test
  void decode_defaultsPayloadToEmptyObject() throws Exception {
    Submission s = decode("{\"type\":\"noop\"}");
    assertThat(s.payload().isObject()).isTrue();
    assertThat(s.payload().size()).isZero();
    assertThat(s.id()).isNull();
  }

  @Test
  void decode_acceptsParentWithoutType() throws Exception {
    Submission s =
        decode(
            """
        {"failurePolicy":"collect","children":[{"type":"noop"},{"type":"echo","key":"b"}]}
        """);
    assertThat(s.type()).isNull();
    assertThat(s.children()).hasSize(2);
    assertThat(s.failurePolicy()).isEqualTo(FailurePolicy.COLLECT);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          not json                 | this is not json                                  | not valid JSON
          empty object             | {}                                                | missing field 'type'
          array root               | [1,2]                                             | expected a JSON object
          number root              | 42                                                | expected a JSON object
          id not a uuid            | {"type":"noop","id":"abc"}                        | field 'id' must be a UUID but was 'abc'
          id wrong type            | {"type":"noop","id":5}                            | field 'id' must be a string
          type wrong type          | {"type":7}                                        | field 'type' must be a string
          type bad characters      | {"type":"a b"}                                    | field 'type' must be 1-200 characters
          negative maxAttempts     | {"type":"noop","maxAttempts":-1}                  | field 'maxAttempts' must be between 1 and 10000 but was -1
          zero maxAttempts         | {"type":"noop","maxAttempts":0}                   | field 'maxAttempts' must be between 1
          fractional maxAttempts   | {"type":"noop","maxAttempts":1.5}                 | field 'maxAttempts' must be an integer
          string timeout           | {"type":"noop","timeoutMs":"5"}                   | field 'timeoutMs' must be an integer but was a string
          negative timeout         | {"type":"noop","timeoutMs":-5}                    | field 'timeoutMs' must be between 1
          bad runAt                | {"type":"noop","runAt":"tomorrow"}                | field 'runAt' must be an ISO-8601 instant
          unknown field            | {"type":"noop","colour":"blue"}                   | unknown field 'colour'
          unknown backoff field    | {"type":"noop","backoff":{"speed":1}}             | unknown field 'backoff.speed'
          bad strategy             | {"type":"noop","backoff":{"strategy":"random"}}   | must be exponential, linear or fixed
          negative jitter          | {"type":"noop","backoff":{"jitter":-0.5}}         | field 'backoff.jitter' must be a non-negative number
          jitter over one          | {"type":"noop","backoff":{"jitter":2}}            | backoff.jitter must be in [0, 1] but was 2.0
          children not array       | {"children":{"type":"noop"}}                      | field 'children' must be an array
          bad child                | {"children":[{"type":"noop","maxAttempts":0}]}    | field 'children[0].maxAttempts'
          bad failure policy       | {"children":[{"type":"noop"}],"failurePolicy":"x"} | field 'failurePolicy' must be "fail-fast" or "collect"
          policy without children  | {"type":"noop","failurePolicy":"collect"}         | only allowed on a job with children
          trailing garbage         | {"type":"noop"} xyz                               | not valid JSON
          """)
  void decode_rejectsWithReasonNamingTheProblem(String name, String json, String reason) {
    assertThatThrownBy(() -> decode(json))
        .isInstanceOf(InvalidSubmissionException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void decode_rejectsEmptyRecord() {
    assertThatThrownBy(() -> codec.decode(new byte[0])).hasMessageContaining("empty record");
    assertThatThrownBy(() -> codec.decode(null)).hasMessageContaining("empty record");
  }

  @Test
  void decode_rejectsOversizedRecord() {
    String big = "{\"type\":\"noop\",\"payload\":{\"s\":\"" + "x".repeat(5000) + "\"}}";
    assertThatThrownBy(() -> decode(big))
        .hasMessageContaining("over the limit of 4096 (submit.max.bytes)");
  }

  @Test
  void decode_rejectsTooDeepJson() {
    String deep = "{\"type\":\"noop\",\"payload\":" + "[".repeat(20) + "]".repeat(20) + "}";
    assertThatThrownBy(() -> decode(deep))
        .hasMessageContaining("nested deeper than 8 levels (submit.max.depth)");
  }

  @Test
  void decode_rejectsTooManyChildrenCountedOverTheTree() {
    String child = "{\"children\":[{\"type\":\"noop\"},{\"type\":\"noop\"},{\"type\":\"noop\"}]}";
    String json = "{\"children\":[" + child + "," + child + "]}";
    assertThatThrownBy(() -> decode(json)).hasMessageContaining("more than 5 children");
  }

  @Test
  void decode_rejectsInvalidUtf8() {
    byte[] bad = {'{', '"', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    assertThatThrownBy(() -> codec.decode(bad)).hasMessageContaining("not valid JSON");
  }

  @Test
  void encode_roundTrips() throws Exception {
    Submission s =
        decode(
            """
        {"id":"3f0c2a9e-1111-4222-8333-944455556666","type":"echo","payload":{"a":[1,2]},
         "maxAttempts":2,"backoff":{"strategy":"fixed","initialMs":5,"maxMs":5,"jitter":0}}
        """);
    Submission again = codec.decode(FerryJson.bytes(SubmissionCodec.encode(s)));
    assertThat(again).isEqualTo(s);
  }
}
