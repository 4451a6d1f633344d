package dev.ferry.orchestrator.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class BatchChunksTest {
  private static List<ConsumerRecord<String, byte[]>> records(int... sizes) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      out.add(new ConsumerRecord<>("t", 0, i, null, new byte[sizes[i]]));
    }
    return out;
  }

  @Test
  void aLargeFetch_isSplitByCountAndBytes_inOrder() {
    var chunks = BatchConsumerLoop.chunks(records(10, 10, 10, 10, 10), 2, 1_000);
    assertThat(chunks).extracting(List::size).containsExactly(2, 2, 1);
    var byBytes = BatchConsumerLoop.chunks(records(600, 300, 200, 900, 50), 100, 1_000);
    assertThat(byBytes).extracting(List::size).containsExactly(2, 1, 2);
    assertThat(byBytes.stream().flatMap(List::stream).map(ConsumerRecord::offset))
        .containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  @Test
  void aRecordOverTheByteBound_isAChunkOfItsOwn_andNothingIsLost() {
    var chunks = BatchConsumerLoop.chunks(records(5, 5_000, 5), 100, 1_000);
    assertThat(chunks).extracting(List::size).containsExactly(1, 1, 1);
    assertThat(BatchConsumerLoop.chunks(records(), 10, 10)).isEmpty();
  }
}
