package dev.ferry.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.model.ScheduleSpec;
import dev.ferry.core.model.Submission;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code schedule} and {@code unique} fields of a submission (DESIGN section 11). */
class ScheduleAndUniqueCodecTest {
  private final SubmissionCodec codec = new SubmissionCodec(new SubmissionLimits(4096, 8, 5));

  private Submission decode(String json) throws InvalidSubmissionException {
    return codec.decode(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aSchedule_isReadWithItsDefaults_andItsTemplateRoundTrips() throws Exception {
    Submission s =
        decode(
            """
            {"type":"report","payload":{"k":1},
             "schedule":{"name":"nightly-report","cron":"0 3 * * *","timeZone":"Europe/Paris"}}
            """);
    ScheduleSpec spec = s.schedule();
    assertThat(spec.name()).isEqualTo("nightly-report");
    assertThat(spec.cron()).isEqualTo("0 3 * * *");
    assertThat(spec.timeZone()).isEqualTo("Europe/Paris");
    assertThat(spec.misfire()).isEqualTo(ScheduleSpec.Misfire.SKIP);
    assertThat(spec.enabled()).isTrue();
    Submission template = decode(FerryJson.text(SubmissionCodec.encode(s.withoutSchedule())));
    assertThat(template.schedule()).isNull();
    assertThat(template.type()).isEqualTo("report");
    assertThat(template.payload().get("k").asInt()).isEqualTo(1);
    assertThat(
            decode(
                    """
                    {"type":"r","schedule":{"name":"n","cron":"*/5 * * * * *",
                     "misfire":"run-once","enabled":false}}
                    """)
                .schedule())
        .isEqualTo(
            new ScheduleSpec("n", "*/5 * * * * *", null, ScheduleSpec.Misfire.RUN_ONCE, false));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"type\":\"r\",\"schedule\":{\"cron\":\"0 3 * * *\"}}"
            + " | missing field 'schedule.name'",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * *\"}}"
            + " | field 'schedule.cron' has 4 fields",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"99 3 * * *\"}}"
            + " | field 'schedule.cron' is not valid",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\",\"timeZone\":\"Nowhere/Else\"}}"
            + " | field 'schedule.timeZone' is not a time zone",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\",\"misfire\":\"later\"}}"
            + " | field 'schedule.misfire' must be \"skip\" or \"run-once\"",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\",\"every\":1}}"
            + " | unknown field 'schedule.every'",
        "{\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\"}}" + " | missing field 'type'",
        "{\"type\":\"r\",\"runAt\":\"2026-01-01T00:00:00Z\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\"}}"
            + " | field 'runAt' is not allowed with 'schedule'",
        "{\"type\":\"r\",\"id\":\"3f0c2a9e-1111-4111-8111-111111111111\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\"}}"
            + " | field 'id' is not allowed with 'schedule'",
        "{\"children\":[{\"type\":\"r\",\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\"}}]}"
            + " | field 'children[0].schedule' is only allowed on a top-level job",
        "{\"type\":\"r\",\"unique\":{\"while\":\"active\"}}" + " | missing field 'unique.key'",
        "{\"type\":\"r\",\"unique\":{\"key\":\"k\",\"while\":\"done\"}}"
            + " | field 'unique.while' must be \"active\"",
        "{\"type\":\"r\",\"unique\":{\"key\":\"k\",\"forMs\":0}}"
            + " | field 'unique.forMs' must be a whole number",
        "{\"type\":\"r\",\"unique\":{\"key\":\"k\",\"forMs\":1.5}}"
            + " | field 'unique.forMs' must be a whole number",
        "{\"type\":\"r\",\"unique\":{\"key\":\"k\",\"while\":\"active\",\"forMs\":5}}"
            + " | not both",
        "{\"type\":\"r\",\"unique\":\"k\"}" + " | field 'unique' must be an object",
        "{\"unique\":{\"key\":\"k\"},\"children\":[{\"type\":\"r\"}]}"
            + " | not supported on a job with children",
        "{\"schedule\":{\"name\":\"n\",\"cron\":\"0 3 * * *\"},\"children\":[{\"type\":\"r\",\"id\":\"3f0c2a9e-1111-4111-8111-111111111111\"}]}"
            + " | a schedule's children take no 'id'",
        "{\"type\":\"r\",\"schedule\":{\"name\":\"a/b\",\"cron\":\"0 3 * * *\"}}"
            + " | must not contain '/'",
        "{\"type\":\"r\",\"priority\":0} | field 'priority' must be between 1 and 5 but was 0",
        "{\"type\":\"r\",\"priority\":6} | field 'priority' must be between 1 and 5 but was 6",
        "{\"type\":\"r\",\"priority\":\"high\"} | field 'priority' must be an integer",
        "{\"type\":\"r\",\"concurrency\":{\"key\":\"t\",\"limit\":0}}"
            + " | field 'concurrency.limit' must be between 1 and 10000 but was 0",
        "{\"type\":\"r\",\"concurrency\":{\"limit\":1}} | missing field 'concurrency.key'",
        "{\"type\":\"r\",\"concurrency\":{\"key\":\"t\"}}" + " | missing field 'concurrency.limit'",
        "{\"type\":\"r\",\"concurrency\":{\"key\":\"t\",\"limit\":1,\"max\":2}}"
            + " | unknown field 'concurrency.max'"
      })
  void badSchedulesAndUniqueKeys_areRejectedWithTheirReason(String json, String reason) {
    assertThatThrownBy(() -> decode(json))
        .isInstanceOf(InvalidSubmissionException.class)
        .hasMessageContaining(reason.strip());
  }

  @Test
  void unique_whileActiveByDefault_orForMs() throws Exception {
    assertThat(decode("{\"type\":\"r\",\"unique\":{\"key\":\"k\"}}").unique().whileActive())
        .isTrue();
    var u = decode("{\"type\":\"r\",\"unique\":{\"key\":\"k\",\"forMs\":60000}}").unique();
    assertThat(u.whileActive()).isFalse();
    assertThat(u.forMs()).isEqualTo(60_000L);
  }
}
