package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.core.Role;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.RetryHint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Graceful shutdown: clients are told, nothing acknowledged is lost, nobody new gets in. */
class ServerShutdownTest {

  @Test
  void closeSaysGoodbyeToEveryClientAndKeepsWhatWasAcknowledged() {
    try (TestServer server = TestServer.start()) {
      RestClient rest = new RestClient(server);
      String id = server.createJob("shutdown-job", "alice");
      String alice = server.token("alice", Role.SUBSCRIBER);
      int port = server.port();

      try (WsClient ws = server.connect("/ws/" + id + "?token=" + alice);
          SseClient sse = SseClient.open(port, "/api/jobs/" + id + "/stream?token=" + alice)) {
        ws.next("connection_established");
        ws.next("subscribed");
        assertThat(ws.next("progress").path("seq").asLong()).isEqualTo(1);
        assertThat(sse.next().seq()).isEqualTo(1);

        RestClient.Reply acknowledged =
            rest.post("/api/jobs/" + id + "/events")
                .token(server.publisher())
                .json("{\"progress\":60,\"stage\":\"last-words\"}")
                .send();
        assertThat(acknowledged.status()).isEqualTo(200);
        assertThat(ws.next("progress").path("seq").asLong()).isEqualTo(2);
        assertThat(sse.next().seq()).isEqualTo(2);

        server.server.close();

        assertThat(ws.awaitClose()).isEqualTo(CloseCode.GOING_AWAY.code());
        assertThat(sse.awaitEnd().clean()).as("the SSE stream ended with its last chunk").isTrue();
        assertThatThrownBy(() -> connect(port)).isInstanceOf(UncheckedIOException.class);
        assertThat(server.hub.get(id).seq()).isEqualTo(2);
        assertThat(server.hub.get(id).stage()).hasValue("last-words");
      }
    }
  }

  @Test
  void eachClientIsToldItsOwnReconnectDelayBelowTheDrainSpread() {
    Duration spread = Duration.ofSeconds(2);
    TestServer server =
        TestServer.start(config -> config.withNetwork(config.network().withDrainSpread(spread)));
    String id = server.createJob("drain-spread", "alice");
    String alice = server.token("alice", Role.SUBSCRIBER);
    List<WsClient> clients = new ArrayList<>();
    try (SseClient sse =
        SseClient.open(server.port(), "/api/jobs/" + id + "/stream?token=" + alice)) {
      for (int i = 0; i < 20; i++) {
        WsClient ws = server.connect("/ws/" + id + "?token=" + alice);
        ws.next("connection_established");
        clients.add(ws);
      }
      sse.next();

      server.close();

      List<Long> delays = new ArrayList<>();
      for (WsClient ws : clients) {
        assertThat(ws.awaitClose()).isEqualTo(CloseCode.GOING_AWAY.code());
        assertThat(ws.closeReason).matches("server shutting down; retry_after_ms=\\d+");
        delays.add(RetryHint.retryAfterMillis(ws.closeReason).orElseThrow());
      }
      assertThat(delays).allSatisfy(d -> assertThat(d).isBetween(0L, spread.toMillis() - 1));
      // 20 draws from 2000 values: all within 200 ms of each other by chance is ~1e-18
      assertThat(Collections.max(delays) - Collections.min(delays))
          .as("delays spread across the window: %s", delays)
          .isGreaterThan(200);
      assertThat(sse.awaitEnd().clean()).isTrue();
      assertThat(Long.parseLong(sse.retry()))
          .as("the SSE stream's last retry: is its reconnect delay")
          .isBetween(0L, spread.toMillis() - 1);
    } finally {
      clients.forEach(WsClient::close);
    }
  }

  @Test
  void aZeroDrainSpreadAsksForNoWait() {
    TestServer server =
        TestServer.start(
            config -> config.withNetwork(config.network().withDrainSpread(Duration.ZERO)));
    try (WsClient ws = server.connect("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
      ws.next("connection_established");

      server.close();

      assertThat(ws.awaitClose()).isEqualTo(CloseCode.GOING_AWAY.code());
      assertThat(ws.closeReason).isEqualTo("server shutting down; retry_after_ms=0");
    }
  }

  @Test
  void closeWithNoClientsReturnsAndIsIdempotent() {
    TestServer server = TestServer.start();
    int port = server.port();
    assertThat(new RestClient(server).get("/health").send().status()).isEqualTo(200);

    server.server.close();
    server.server.close();

    assertThatThrownBy(() -> connect(port)).isInstanceOf(UncheckedIOException.class);
    server.close();
  }

  @Test
  void anSseStreamOpenedWithLastEventIdIsAlsoEndedOnShutdown() {
    TestServer server = TestServer.start();
    String id = server.createJob("shutdown-resume", "alice");
    new RestClient(server)
        .post("/api/jobs/" + id + "/events")
        .token(server.publisher())
        .json("{\"stage\":\"s\"}")
        .send();
    try (SseClient sse =
        SseClient.open(
            server.port(),
            "/api/jobs/" + id + "/stream?token=" + server.token("alice", Role.SUBSCRIBER),
            Map.of("Last-Event-ID", "1"))) {
      assertThat(sse.next().seq()).isEqualTo(2);

      server.close();

      assertThat(sse.eventsUntilEnd()).isEmpty();
    }
  }

  private static void connect(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
