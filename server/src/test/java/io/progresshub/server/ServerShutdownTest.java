package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.core.Role;
import io.progresshub.protocol.CloseCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
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
