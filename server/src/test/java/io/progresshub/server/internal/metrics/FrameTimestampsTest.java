package io.progresshub.server.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.progresshub.protocol.JobState;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.protocol.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The sampled write reads the state's timestamp out of the very bytes the codec wrote. */
class FrameTimestampsTest {
  private final WireCodec codec = new WireCodec(32);

  private ByteBuf frame(Instant at, boolean replay, Map<String, Object> metadata) {
    JobState state =
        new JobState(
            "job-1",
            3,
            "in_progress",
            40.0,
            Optional.of("say \"timestamp\":\"1999-01-01T00:00:00Z\""),
            Optional.empty(),
            OptionalDouble.empty(),
            OptionalDouble.of(2.5),
            at,
            metadata,
            Optional.empty(),
            Optional.empty());
    byte[] json = codec.encode(new ServerMessage.Progress(state, replay));
    return Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 0x7e, 0, 0}, json);
  }

  @Test
  void readsTheStatesOwnTimestampToTheMillisecond() {
    Instant at = Instant.parse("2026-12-07T09:15:42.123Z");
    assertThat(FrameTimestamps.epochMillis(frame(at, false, Map.of("timestamp", "x"))))
        .isEqualTo(at.toEpochMilli());
  }

  @Test
  void readsATimestampWithoutFraction() {
    Instant at = Instant.parse("2026-12-07T09:15:42Z");
    assertThat(FrameTimestamps.epochMillis(frame(at, false, Map.of())))
        .isEqualTo(at.toEpochMilli());
  }

  @Test
  void skipsReplayedStatesAndFramesWithoutATimestamp() {
    assertThat(FrameTimestamps.epochMillis(frame(Instant.now(), true, Map.of()))).isEqualTo(-1);
    assertThat(
            FrameTimestamps.epochMillis(
                Unpooled.copiedBuffer("{\"type\":\"pong\"}", StandardCharsets.UTF_8)))
        .isEqualTo(-1);
    assertThat(
            FrameTimestamps.epochMillis(
                Unpooled.copiedBuffer(
                    "{\"timestamp\":\"20x6-12-07T09:15:42Z\"}", StandardCharsets.UTF_8)))
        .isEqualTo(-1);
  }
}
