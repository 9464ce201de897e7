package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Heartbeats with a 1 s interval: a ping frame and a JSON {@code heartbeat} every interval, and a
 * connection silent for 2.5 intervals is closed.
 */
class WebSocketHeartbeatTest {
  @RegisterExtension
  static final TestServer server = TestServer.perClass(TestServer.heartbeat(Duration.ofSeconds(1)));

  private static String token() {
    return server.token("alice", Role.SUBSCRIBER);
  }

  @Test
  void heartbeatsComeAsNumberedJsonMessagesAlongWithPingFrames() {
    try (WsClient client = server.connect("/ws?token=" + token())) {
      assertThat(client.next("connection_established").path("heartbeat_interval").asLong())
          .isEqualTo(1);
      JsonNode first = client.next("heartbeat");
      assertThat(first.path("sequence").asLong()).isEqualTo(1);
      assertThat(Instant.parse(first.path("timestamp").asText())).isNotNull();
      JsonNode second = client.next("heartbeat");
      assertThat(second.path("sequence").asLong()).isEqualTo(2);
      // Each heartbeat message follows its ping frame on the wire.
      assertThat(client.pings.get()).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void clientThatAnswersPingsStaysConnectedPastTheIdleTimeout() {
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      // The JDK client only answers pings; four heartbeats span more than 2.5 intervals.
      for (int i = 1; i <= 4; i++) {
        assertThat(client.next("heartbeat").path("sequence").asLong()).isEqualTo(i);
      }
      client.assertOpen();
      assertThat(client.closeCode).isNotDone();
    }
  }

  @Test
  void clientThatNeverAnswersIsClosedAfterTwoAndAHalfIntervalsOfSilence() {
    try (RawWsClient client = server.raw("/ws?token=" + token())) {
      client.next("connection_established");
      int pings = 0;
      RawWsClient.Frame frame;
      while ((frame = client.readFrame()).opcode() != RawWsClient.CLOSE) {
        if (frame.opcode() == RawWsClient.PING) {
          pings++; // deliberately left unanswered
        }
      }
      assertThat(pings).as("pings before the close").isPositive();
      assertThat(frame.closeCode()).isEqualTo(1001);
      assertThat(frame.text()).contains("idle");
    }
  }
}
