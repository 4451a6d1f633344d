package com.example.greetings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The handler alone, called directly: fast, no infrastructure. */
class GreetHandlerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JobContext context(String payload) throws Exception {
    return new JobContext(UUID.randomUUID(), 1, "greet", JSON.readTree(payload), null,
        Instant.now().plusSeconds(30));
  }

  @Test
  void greetsInTheLanguageAsked() throws Exception {
    JobResult r = new GreetHandler().handle(context("{\"name\":\"Ada\",\"language\":\"fr\"}"));
    assertThat(r).isInstanceOf(JobResult.Success.class);
    assertThat(((JobResult.Success) r).result().get("greeting").asText()).isEqualTo("Bonjour, Ada!");
  }

  @Test
  void anUnknownLanguageFailsWithAReason() throws Exception {
    JobResult r = new GreetHandler().handle(context("{\"name\":\"Ada\",\"language\":\"xx\"}"));
    assertThat(r).isEqualTo(JobResult.fail("unknown language 'xx' (known: en, fr, de)"));
  }

  @Test
  void aMissingNameIsNotRetryable() {
    assertThatThrownBy(() -> new GreetHandler().handle(context("{}")))
        .isInstanceOf(NonRetryableException.class).hasMessage("payload.name is required");
  }
}
