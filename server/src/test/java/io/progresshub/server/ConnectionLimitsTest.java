package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Role;
import io.progresshub.protocol.CloseCode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Caps and rates across connections: per client address (for plain HTTP too), plain HTTP in total,
 * new connections per address per second, publishes per token, and who may name the client's
 * address in {@code X-Forwarded-For}.
 */
class ConnectionLimitsTest {

  private static TestServer server(AddressLimits addresses, TestServer.Limits limits) {
    return TestServer.start(config -> config.withAddresses(addresses).withLimits(limits.build()));
  }

  private static RawHttp.Response get(
      RawHttp connection, String path, Map<String, String> headers) {
    connection.write(RawHttp.request("GET", path, headers));
    return connection.readResponse();
  }

  /**
   * Whether a new connection is dropped: reset before the connect call returns, or closed by the
   * server right after.
   */
  private static boolean droppedAtOnce(TestServer server) {
    RawHttp connection;
    try {
      connection = RawHttp.open(server.port());
    } catch (java.io.UncheckedIOException reset) {
      return true;
    }
    try (connection) {
      return connection.awaitClosedByServer();
    }
  }

  @Test
  void plainHttpConnectionsOverThePerAddressCapAreDroppedAtOnce() {
    try (TestServer server =
        server(
            TestServer.UNLIMITED_ADDRESSES.withMaxConnectionsPerAddress(5),
            TestServer.Limits.defaults())) {
      List<RawHttp> held = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) {
          RawHttp connection = RawHttp.open(server.port());
          assertThat(get(connection, "/health", Map.of()).status()).isEqualTo(200);
          held.add(connection); // kept open: keep-alive
        }
        assertThat(droppedAtOnce(server)).as("the sixth connection is dropped").isTrue();
        held.remove(0).close();
        org.awaitility.Awaitility.await()
            .untilAsserted(
                () -> {
                  try (RawHttp again = RawHttp.open(server.port())) {
                    assertThat(get(again, "/health", Map.of("Connection", "close")).status())
                        .isEqualTo(200);
                  }
                });
      } finally {
        held.forEach(RawHttp::close);
      }
    }
  }

  @Test
  void plainHttpConnectionsOverTheTotalCapAreDroppedAtOnceButWebSocketsDoNotCount() {
    try (TestServer server =
        server(
            TestServer.UNLIMITED_ADDRESSES, TestServer.Limits.defaults().maxHttpConnections(3))) {
      List<AutoCloseable> held = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          RawWsClient ws = server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER));
          ws.next("connection_established");
          held.add(ws); // upgraded: no longer plain HTTP
        }
        for (int i = 0; i < 3; i++) {
          RawHttp connection = RawHttp.open(server.port());
          assertThat(get(connection, "/health", Map.of()).status()).isEqualTo(200);
          held.add(connection);
        }
        assertThat(droppedAtOnce(server)).isTrue();
      } finally {
        for (AutoCloseable c : held) {
          try {
            c.close();
          } catch (Exception ignored) {
            // closing anyway
          }
        }
      }
    }
  }

  @Test
  void connectsFasterThanTheAddressRateGet429WithRetryAfter() {
    try (TestServer server =
        server(
            TestServer.UNLIMITED_ADDRESSES.withConnectRate(new Rate(0.5, 3)),
            TestServer.Limits.defaults())) {
      for (int i = 0; i < 3; i++) {
        try (RawHttp connection = RawHttp.open(server.port())) {
          assertThat(get(connection, "/health", Map.of()).status()).isEqualTo(200);
        }
      }
      try (RawHttp fourth = RawHttp.open(server.port())) {
        RawHttp.Response refused = get(fourth, "/health", Map.of());
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.head().header("retry-after"))
            .hasValueSatisfying(seconds -> assertThat(Integer.parseInt(seconds)).isBetween(1, 2));
        assertThat(refused.body()).contains("\"code\":\"rate_limited\"");
        assertThat(fourth.awaitClosedByServer()).isTrue();
      }
    }
  }

  @Test
  void aWebSocketOverTheConnectRateIsClosedWith4429AfterTheUpgrade() {
    try (TestServer server =
        server(
            TestServer.UNLIMITED_ADDRESSES.withConnectRate(new Rate(0.1, 1)),
            TestServer.Limits.defaults())) {
      String path = "/ws?token=" + server.token("alice", Role.SUBSCRIBER);
      try (RawWsClient first = server.raw(path)) {
        first.next("connection_established");
        try (RawWsClient second = server.raw(path)) {
          RawWsClient.Closed closed = second.readUntilClose();
          assertThat(closed.code()).isEqualTo(CloseCode.RATE_LIMITED.code());
          assertThat(closed.messages())
              .last()
              .satisfies(m -> assertThat(m.path("code").asText()).isEqualTo("rate_limited"));
        }
      }
    }
  }

  @Test
  void xForwardedForIsBelievedOnlyFromATrustedProxy() {
    AddressLimits twoPerAddress = TestServer.UNLIMITED_ADDRESSES.withMaxConnectionsPerAddress(2);
    // Behind a trusted proxy: each client named by the proxy has its own allowance.
    try (TestServer server =
        server(
            twoPerAddress.withTrustedProxies(List.of("127.0.0.0/8")),
            TestServer.Limits.defaults())) {
      List<RawHttp> held = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          RawHttp connection = RawHttp.open(server.port());
          assertThat(get(connection, "/health", Map.of("X-Forwarded-For", "203.0.113.7")).status())
              .isEqualTo(200);
          held.add(connection);
        }
        try (RawHttp third = RawHttp.open(server.port())) {
          assertThat(get(third, "/health", Map.of("X-Forwarded-For", "203.0.113.7")).status())
              .isEqualTo(429);
        }
        try (RawHttp other = RawHttp.open(server.port())) {
          // A client cannot pick its address: only the proxy's own (last) entry is believed.
          assertThat(
                  get(other, "/health", Map.of("X-Forwarded-For", "203.0.113.7, 198.51.100.1"))
                      .status())
              .isEqualTo(200);
        }
      } finally {
        held.forEach(RawHttp::close);
      }
    }
    // Without a trusted proxy the header means nothing: the socket's address is counted.
    try (TestServer server = server(twoPerAddress, TestServer.Limits.defaults())) {
      List<RawHttp> held = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          RawHttp connection = RawHttp.open(server.port());
          assertThat(get(connection, "/health", Map.of("X-Forwarded-For", "10.0.0." + i)).status())
              .isEqualTo(200);
          held.add(connection);
        }
        assertThat(droppedAtOnce(server)).isTrue();
      } finally {
        held.forEach(RawHttp::close);
      }
    }
  }

  @Test
  void publishesOverATokensRateGet429WithRetryAfterAndOtherTokensAreUnaffected() {
    try (TestServer server =
        server(
            TestServer.UNLIMITED_ADDRESSES,
            TestServer.Limits.defaults().publishRate(new Rate(1, 5)))) {
      String job = server.newJob("alice");
      String busy = server.token("busy-worker", Role.PUBLISHER);
      List<Integer> statuses = new ArrayList<>();
      HttpResponse<String> last = null;
      for (int i = 0; i < 6; i++) {
        last =
            server.send("POST", "/api/jobs/" + job + "/events", busy, "{\"progress\":" + i + "}");
        statuses.add(last.statusCode());
      }
      assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
      assertThat(last.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(last.body()).contains("\"code\":\"rate_limited\"");
      String batch = "{\"events\":[{\"job_id\":\"" + job + "\",\"progress\":50}]}";
      assertThat(server.send("POST", "/api/events/batch", busy, batch).statusCode()).isEqualTo(429);
      String other = server.token("other-worker", Role.PUBLISHER);
      assertThat(
              server
                  .send("POST", "/api/jobs/" + job + "/events", other, "{\"progress\":7}")
                  .statusCode())
          .isEqualTo(200);
      assertThat(server.hub.get(job).progress()).isEqualTo(7.0);
    }
  }
}
