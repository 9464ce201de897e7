package io.progresshub.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ClientCodecTest {
  private final ClientCodec client = new ClientCodec(32);
  private final WireCodec server = new WireCodec(32);

  @Test
  void everyCommandTheClientEncodesIsReadBackByTheServer() {
    ClientMessage[] commands = {
      new ClientMessage.Subscribe("job-1", OptionalLong.of(7), Optional.of("s1")),
      new ClientMessage.Subscribe("job-1", OptionalLong.empty(), Optional.empty()),
      new ClientMessage.Unsubscribe("job-1", Optional.of("u1")),
      new ClientMessage.Ping(Optional.of("p1")),
      new ClientMessage.Auth("eyJ.token", Optional.of("a1")),
      new ClientMessage.Cancel("job-1", Optional.empty()),
    };
    for (ClientMessage command : commands) {
      assertThat(server.decode(client.encode(command))).isEqualTo(command);
    }
  }

  @Test
  void everyMessageTheServerEncodesIsReadBackByTheClient() {
    Instant now = Instant.parse("2026-11-22T10:15:30.123Z");
    JobState state =
        new JobState(
            "job-1",
            5,
            "completed",
            100,
            Optional.of("encode"),
            Optional.empty(),
            OptionalDouble.of(0),
            OptionalDouble.of(20.5),
            now,
            Map.of("lang", "en"),
            Optional.of(Map.of("url", "s3://x")),
            Optional.empty());
    ServerMessage[] messages = {
      new ServerMessage.Progress(state, true),
      new ServerMessage.ConnectionEstablished("c-1", 25, now),
      new ServerMessage.Subscribed("job-1", "in_progress", 4, true, Optional.of("s1")),
      new ServerMessage.Unsubscribed("job-1", "in_progress", 4, Optional.empty()),
      new ServerMessage.Cancelled("job-1", "cancelled", 6, Optional.of("c1")),
      new ServerMessage.Pong(Optional.of("p1"), now),
      new ServerMessage.Heartbeat(3, now),
      new ServerMessage.Authenticated("alice", "subscriber", Optional.of(now), Optional.of("a1")),
      new ServerMessage.Error(ErrorCode.JOB_NOT_FOUND, "no such job", Optional.of("s2")),
      new ServerMessage.Broadcast(
          "job-1", "in_progress", 4, Map.of("notice", "restart at 10:00", "minutes", 5), now),
      new ServerMessage.Broadcast("job-1", "in_progress", 4, "plain text", now),
    };
    for (ServerMessage message : messages) {
      assertThat(
              client.decode(
                  new String(server.encode(message), java.nio.charset.StandardCharsets.UTF_8)))
          .contains(message);
    }
  }

  @Test
  void aMessageTypeFromANewerServerIsSkippedNotRefused() {
    assertThat(client.decode("{\"type\":\"presence\",\"job_id\":\"j\"}")).isEmpty();
  }
}
