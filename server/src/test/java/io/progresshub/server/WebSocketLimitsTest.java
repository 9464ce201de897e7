package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The limits of docs/security.md, as a WebSocket client meets them. */
class WebSocketLimitsTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static String token(TestServer on, String user) {
    return on.token(user, Role.SUBSCRIBER);
  }

  // ------------------------------------------------------------------ frames

  @Test
  void messageLargerThan64KibClosesWith1009() {
    try (WsClient client = server.connect("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
      assertThat(client.awaitClose()).isEqualTo(1009);
    }
  }

  @Test
  void fragmentedMessageLargerThan64KibClosesWith1009() {
    try (WsClient client = server.connect("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      String half = "x".repeat(40 * 1024);
      client.socket.sendText("{\"type\":\"ping\",\"pad\":\"" + half, false).join();
      client.socket.sendText(half + "\"}", true);
      assertThat(client.awaitClose()).isEqualTo(1009);
    }
  }

  @Test
  void messageJustUnderTheLimitIsServed() {
    try (WsClient client = server.connect("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + "x".repeat(60 * 1024) + "\"}");
      assertThat(client.next("pong").path("id").asText()).isEqualTo("big");
    }
  }

  @Test
  void invalidUtf8InATextFrameClosesWith1007() {
    try (RawWsClient client = server.raw("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      byte[] bad = "{\"type\":\"ping\",\"id\":\"?\"}".getBytes(StandardCharsets.US_ASCII);
      bad[bad.length - 3] = (byte) 0xC3; // a lead byte followed by an ASCII quote
      client.sendFrame(RawWsClient.TEXT, true, bad);
      RawWsClient.Closed closed = client.readUntilClose();
      assertThat(closed.messages()).isEmpty();
      assertThat(closed.code()).isEqualTo(1007);
    }
  }

  @Test
  void invalidUtf8SplitAcrossFragmentsClosesWith1007() {
    try (RawWsClient client = server.raw("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      client.sendFrame(RawWsClient.TEXT, false, "{\"type\":\"ping\",\"id\":\"".getBytes());
      client.sendFrame(0x0, true, new byte[] {(byte) 0xF0, (byte) 0x28, '"', '}'});
      assertThat(client.readUntilClose().code()).isEqualTo(1007);
    }
  }

  @Test
  void binaryFrameClosesWith1003() {
    try (RawWsClient client = server.raw("/ws?token=" + token(server, "alice"))) {
      client.next("connection_established");
      client.sendFrame(RawWsClient.BINARY, true, "{\"type\":\"ping\"}".getBytes());
      RawWsClient.Closed closed = client.readUntilClose();
      assertThat(closed.messages()).isEmpty();
      assertThat(closed.code()).isEqualTo(1003);
    }
  }

  @Test
  void rawClientIsServedLikeAnyOther() {
    String job = server.newJob("alice");
    try (RawWsClient client = server.raw("/ws/" + job + "?token=" + token(server, "alice"))) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      client.sendText("{\"type\":\"ping\",\"id\":\"raw\"}");
      assertThat(client.next("pong").path("id").asText()).isEqualTo("raw");
    }
  }

  // ------------------------------------------------------------------ subscriptions and
  // connections

  @Test
  void subscriptionsBeyondTheLimitGetTooManySubscriptionsAndTheConnectionStaysOpen() {
    try (TestServer small =
            TestServer.withLimits(TestServer.Limits.defaults().maxSubscriptionsPerConnection(3));
        WsClient client = small.connect("/ws?token=" + token(small, "alice"))) {
      client.next("connection_established");
      List<String> jobs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        jobs.add(small.newJob("alice"));
      }
      for (int i = 0; i < 3; i++) {
        client.send(
            "{\"type\":\"subscribe\",\"job_id\":\"" + jobs.get(i) + "\",\"id\":\"s" + i + "\"}");
        client.next("subscribed");
        client.next("progress");
      }
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + jobs.get(3) + "\",\"id\":\"s3\"}");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("too_many_subscriptions");
      assertThat(error.path("id").asText()).isEqualTo("s3");

      // Re-subscribing to a job already watched does not count twice; freeing a slot helps.
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + jobs.get(0) + "\",\"id\":\"again\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("again");
      client.next("progress");
      client.send("{\"type\":\"unsubscribe\",\"job_id\":\"" + jobs.get(1) + "\"}");
      client.next("unsubscribed");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + jobs.get(3) + "\",\"id\":\"s4\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s4");
    }
  }

  @Test
  void connectionsPerUserBeyondTheLimitAreClosedWith4429() {
    try (TestServer small =
        TestServer.withLimits(TestServer.Limits.defaults().maxConnectionsPerUser(2))) {
      String job = small.newJob("alice");
      String path = "/ws/" + job + "?token=" + token(small, "alice");
      // One at a time: connections on different event loops take their slots in any order.
      WsClient first = small.connect(path);
      first.next("connection_established");
      first.next("subscribed");
      try (WsClient second = connected(small, path);
          WsClient third = small.connect(path);
          WsClient bob = small.connect("/ws?token=" + token(small, "bob"))) {
        third.next("connection_established");
        JsonNode error = third.next("error");
        assertThat(error.path("code").asText()).isEqualTo("too_many_connections");
        assertThat(third.awaitClose()).isEqualTo(4429);
        bob.next("connection_established");
        bob.assertOpen();

        // A closed connection frees its slot (released asynchronously, hence the retry).
        first.close();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> {
                  try (WsClient retry = small.connect(path)) {
                    retry.next("connection_established");
                    return retry.next().path("type").asText().equals("subscribed");
                  }
                });
      } finally {
        first.close();
      }
    }
  }

  @Test
  void firstMessageAuthCountsAgainstThePerUserLimitToo() {
    try (TestServer small =
            TestServer.withLimits(TestServer.Limits.defaults().maxConnectionsPerUser(1));
        WsClient first = small.connect("/ws?token=" + token(small, "alice"));
        WsClient second = small.connect("/ws")) {
      first.next("connection_established");
      second.next("connection_established");
      second.send("{\"type\":\"auth\",\"token\":\"" + token(small, "alice") + "\",\"id\":\"a\"}");
      JsonNode error = second.next("error");
      assertThat(error.path("code").asText()).isEqualTo("too_many_connections");
      assertThat(error.path("id").asText()).isEqualTo("a");
      assertThat(second.awaitClose()).isEqualTo(4429);
    }
  }

  @Test
  void connectionsBeyondTheTotalLimitAreRefusedWith429BeforeTheUpgrade() {
    try (TestServer small = TestServer.withLimits(TestServer.Limits.defaults().maxConnections(2));
        WsClient first = small.connect("/ws?token=" + token(small, "alice"));
        WsClient second = small.connect("/ws?token=" + token(small, "bob"))) {
      first.next("connection_established");
      second.next("connection_established");
      assertThat(small.handshakeStatus("/ws?token=" + token(small, "carol"), Map.of()))
          .isEqualTo(429);
    }
  }

  // ------------------------------------------------------------------ origins

  @Test
  void originsOutsideTheAllowListAreRefusedWith403AndAllowedOrSameOriginsAreAccepted() {
    try (TestServer guarded =
        TestServer.start(
            config ->
                config.withNetwork(
                    new NetworkConfig(
                        "127.0.0.1",
                        0,
                        List.of("https://app.example.com"),
                        Duration.ofSeconds(5))))) {
      String path = "/ws?token=" + token(guarded, "alice");
      assertThat(guarded.handshakeStatus(path, Map.of("Origin", "https://evil.example.com")))
          .isEqualTo(403);
      assertThat(guarded.handshakeStatus(path, Map.of("Origin", "http://app.example.com")))
          .as("scheme is part of the origin")
          .isEqualTo(403);
      assertThat(guarded.handshakeStatus(path, Map.of("Origin", "null"))).isEqualTo(403);
      assertThat(guarded.handshakeStatus(path, Map.of("Origin", "https://app.example.com")))
          .isEqualTo(101);
      assertThat(
              guarded.handshakeStatus(path, Map.of("Origin", "http://127.0.0.1:" + guarded.port())))
          .as("same origin")
          .isEqualTo(101);
      assertThat(guarded.handshakeStatus(path, Map.of())).as("no Origin").isEqualTo(101);
    }
  }

  @Test
  void defaultConfigurationRefusesCrossOriginBrowsers() {
    String path = "/ws?token=" + token(server, "alice");
    assertThat(server.handshakeStatus(path, Map.of("Origin", "https://evil.example.com")))
        .isEqualTo(403);
  }

  private static WsClient connected(TestServer server, String path) {
    WsClient client = server.connect(path);
    client.next("connection_established");
    client.next("subscribed");
    return client;
  }
}
