package dev.ferry.core.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.model.AttemptReport;
import dev.ferry.core.model.JobEvent;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class WireCodecTest {
  private static final Instant T = Instant.parse("2026-11-25T12:00:00Z");

  @Test
  void workItemsAndReports_roundTrip() throws Exception {
    UUID id = UUID.randomUUID();
    WorkItem w = new WorkItem(id, 3, 7L, "http", FerryJson.parse("{\"url\":\"x\"}"), "api", 500);
    assertThat(WireCodec.decodeWorkItem(WireCodec.encode(w))).isEqualTo(w);
    for (Outcome o :
        new Outcome[] {
          new Outcome.Succeeded(FerryJson.parse("{\"a\":1}")),
          new Outcome.Failed("boom", true),
          new Outcome.Failed("bad", false),
          new Outcome.TimedOut("slow"),
          new Outcome.Deferred(T, "snoozed")
        }) {
      AttemptReport r = new AttemptReport(id, 3, 7L, "w1", T, T.plusMillis(5), o);
      assertThat(WireCodec.decodeReport(WireCodec.encode(r))).isEqualTo(r);
    }
    AttemptReport start = AttemptReport.started(id, 3, 7L, "w1", T);
    assertThat(WireCodec.decodeReport(WireCodec.encode(start))).isEqualTo(start);
  }

  @Test
  void workItemsFromDatabaseText_areTheSameBytesAsFromTrees() throws Exception {
    UUID id = UUID.randomUUID();
    String payload = "{\"url\":\"http://x/\\u00e9\",\"n\":[1,2.5,null],\"o\":{}}";
    for (String dep : new String[] {null, "api"}) {
      for (int crashes : new int[] {0, 2}) {
        WorkItem w = new WorkItem(id, 3, 7L, "http", FerryJson.parse(payload), dep, 500, crashes);
        byte[] raw =
            WireCodec.encodeWorkItem(
                id, 3, 7L, "http", FerryJson.text(w.payload()), dep, 500, crashes);
        assertThat(raw).isEqualTo(WireCodec.encode(w));
        assertThat(WireCodec.decodeWorkItem(raw)).isEqualTo(w);
      }
    }
  }

  @Test
  void largeResults_areLeftOutOfEvents() throws Exception {
    ObjectNode big = FerryJson.object();
    for (int i = 0; i < 10_000; i++) {
      big.put("key-" + i, "value-" + i);
    }
    JobEvent e = new JobEvent(UUID.randomUUID(), null, JobStatus.SUCCEEDED, 1, big, null, T);
    var n = FerryJson.MAPPER.readTree(WireCodec.encode(e));
    assertThat(n.has("result")).isFalse();
    assertThat(n.path("resultOmitted").asBoolean()).isTrue();
    JobEvent small =
        new JobEvent(
            UUID.randomUUID(),
            null,
            JobStatus.SUCCEEDED,
            1,
            FerryJson.parse("{\"ok\":true}"),
            null,
            T);
    assertThat(WireCodec.decodeEvent(WireCodec.encode(small))).isEqualTo(small);
  }
}
