package dev.ferry.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.model.Submission;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Submissions that are valid JSON but that PostgreSQL or Kafka would refuse: refused at the edge.
 */
class SubmissionCodecHostileTest {
  private final SubmissionCodec codec = new SubmissionCodec(SubmissionLimits.DEFAULT);

  private Submission decode(String json) throws InvalidSubmissionException {
    return codec.decode(json.getBytes(StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"type\":\"noop\",\"payload\":{\"a\":\"x\\u0000y\"}}|field 'payload.a' contains the NUL character",
        "{\"type\":\"noop\",\"payload\":{\"a\":[1,{\"b\":\"\\u0000\"}]}}|field 'payload.a[1].b' contains the NUL",
        "{\"type\":\"noop\",\"payload\":{\"k\\u0000\":1}}|has a field name that contains the NUL",
        "{\"type\":\"noop\",\"key\":\"a\\u0000\"}|field 'key' contains the NUL",
        "{\"type\":\"noop\",\"payload\":{\"a\":\"\\ud800\"}}|unpaired surrogate",
        "{\"type\":\"noop\",\"payload\":{\"a\":\"\\udc00x\"}}|unpaired surrogate",
        "{\"type\":\"noop\",\"payload\":{\"n\":1e400}}|number out of range",
        "{\"type\":\"noop\",\"payload\":{\"n\":-1e999}}|number out of range",
        "{\"type\":\"noop\",\"runAt\":\"+1000000000-01-01T00:00:00Z\"}|between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        "{\"type\":\"noop\",\"runAt\":\"1969-12-31T23:59:59Z\"}|between 1970-01-01",
        "{\"type\":\"noop\",\"runAt\":\"+10000-01-01T00:00:00Z\"}|between 1970-01-01",
        "{\"type\":\"noop\",\"type\":\"echo\"}|Duplicate field 'type'",
        "{\"children\":[{\"type\":\"noop\",\"key\":\"a\"},{\"type\":\"noop\",\"key\":\"a\"}]}|names two children of one parent",
      })
  void hostile_isRejectedWithAReasonNamingTheProblem(String json, String reason) {
    assertThatThrownBy(() -> decode(json))
        .isInstanceOf(InvalidSubmissionException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void twoJobsWithOneId_areRejected() {
    UUID id = UUID.randomUUID();
    assertThatThrownBy(
            () ->
                decode(
                    "{\"children\":[{\"id\":\"%s\",\"type\":\"noop\"},{\"id\":\"%s\",\"type\":\"noop\"}]}"
                        .formatted(id, id)))
        .hasMessageContaining(id + " names two jobs of this submission");
    assertThatThrownBy(
            () ->
                decode(
                    "{\"id\":\"%s\",\"children\":[{\"id\":\"%s\",\"type\":\"noop\"}]}"
                        .formatted(id, id)))
        .hasMessageContaining("names two jobs");
  }

  @Test
  void httpDependencyDerivedFromAVeryLongHost_isRejected() {
    String host = "a".repeat(250) + ".example";
    assertThatThrownBy(
            () -> decode("{\"type\":\"http\",\"payload\":{\"url\":\"http://" + host + "/x\"}}"))
        .hasMessageContaining("payload.url' has a host longer than 200");
  }

  @Test
  void echoedUserText_isEscaped() {
    String evil = "x\r\nINFO forged log line " + "y".repeat(100);
    assertThatThrownBy(
            () ->
                decode(
                    "{\"type\":\"noop\",\"dependency\":\""
                        + evil.replace("\r", "\\r").replace("\n", "\\n")
                        + "\"}"))
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .doesNotContain("\r")
                    .doesNotContain("\n")
                    .contains("x\\r\\nINFO"));
  }

  @Test
  void edgesOfTheAcceptedRange_areAccepted() throws Exception {
    assertThat(decode("{\"type\":\"noop\",\"runAt\":\"1970-01-01T00:00:00Z\"}").runAt())
        .isNotNull();
    assertThat(decode("{\"type\":\"noop\",\"runAt\":\"9999-12-31T23:59:59Z\"}").runAt())
        .isNotNull();
    assertThat(
            decode(
                    "{\"type\":\"noop\",\"payload\":{\"emoji\":\"\\ud83d\\ude00\",\"n\":1e308,\"t\":\"a\\tb\"}}")
                .payload()
                .get("emoji")
                .asText())
        .isEqualTo("\uD83D\uDE00");
  }
}
