package io.progresshub.client;

import io.progresshub.core.Hub;
import io.progresshub.core.Role;
import io.progresshub.server.AddressLimits;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.NetworkConfig;
import io.progresshub.server.ProgressHubServer;
import io.progresshub.server.Rate;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import io.progresshub.store.sqlite.SqliteJobStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A real server for tests: SQLite in a data directory, auth on, loopback on a random port. {@link
 * #restart} stops it and starts it again on the same port and data directory, as an operator's
 * restart would.
 */
final class TestHub implements AutoCloseable {
  private static final byte[] SECRET =
      "client-test-secret-client-test-secret".getBytes(StandardCharsets.UTF_8);

  private final Path dataDir;
  private final Duration heartbeat;
  private final Duration drainSpread;
  private final JwtTokens tokens = new JwtTokens(SECRET, Optional.empty(), Clock.systemUTC());
  private int port;
  private Hub hub;
  private ProgressHubServer server;

  private TestHub(Path dataDir, Duration heartbeat, Duration drainSpread) {
    this.dataDir = dataDir;
    this.heartbeat = heartbeat;
    this.drainSpread = drainSpread;
  }

  static TestHub start(Path dataDir) {
    return start(dataDir, Duration.ofSeconds(25));
  }

  /** No reconnect delay asked of clients at shutdown: restarts in tests stay quick. */
  static TestHub start(Path dataDir, Duration heartbeat) {
    return start(dataDir, heartbeat, Duration.ZERO);
  }

  /** Clients are asked to wait a random time below {@code drainSpread} after a shutdown. */
  static TestHub start(Path dataDir, Duration heartbeat, Duration drainSpread) {
    TestHub testHub = new TestHub(dataDir, heartbeat, drainSpread);
    testHub.startServer();
    return testHub;
  }

  private void startServer() {
    hub = Hub.builder().store(SqliteJobStore.open(dataDir)).build();
    ServerConfig config =
        ServerConfig.defaults(AuthConfig.hs256(SECRET))
            .withNetwork(
                new NetworkConfig("127.0.0.1", port, List.of(), Duration.ofSeconds(2))
                    .withDrainSpread(drainSpread))
            .withAddresses(new AddressLimits(1_000_000, Rate.UNLIMITED, List.of()))
            .withLimits(LimitsConfig.builder().publishRate(Rate.UNLIMITED).build())
            .withWebSocket(new WebSocketConfig(heartbeat, false));
    server = ProgressHubServer.start(config, hub);
    port = server.port();
  }

  /** Stops the server (WebSockets get 1001), then starts it again on the same port and data. */
  void restart() {
    stop();
    startServer();
  }

  /** Stops the server and its store; {@link #restart} brings them back. */
  void stop() {
    server.close();
    hub.close();
  }

  int port() {
    return port;
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + port);
  }

  String token(String subject, Role role, Duration ttl) {
    return tokens.issue(subject, role, List.of(), ttl);
  }

  String publisherToken() {
    return token("worker", Role.PUBLISHER, Duration.ofHours(1));
  }

  String subscriberToken(String subject) {
    return token(subject, Role.SUBSCRIBER, Duration.ofHours(1));
  }

  /** {@code DELETE /api/jobs/{id}} as a publisher; fails unless the job was there to delete. */
  void delete(String jobId) throws java.io.IOException, InterruptedException {
    java.net.http.HttpResponse<String> response =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(url().resolve("/api/jobs/" + jobId))
                    .header("Authorization", "Bearer " + publisherToken())
                    .DELETE()
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("DELETE " + jobId + ": " + response.statusCode());
    }
  }

  /**
   * {@code POST /api/jobs/{id}/broadcast} as an admin with {@code body}; answers the response body,
   * failing unless the status was 200.
   */
  String broadcast(String jobId, String body) throws java.io.IOException, InterruptedException {
    java.net.http.HttpResponse<String> response =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        url().resolve("/api/jobs/" + jobId + "/broadcast"))
                    .header(
                        "Authorization", "Bearer " + token("ops", Role.ADMIN, Duration.ofHours(1)))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "broadcast to " + jobId + ": " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  ProgressPublisher publisher() {
    String token = publisherToken();
    return ProgressPublisher.builder(url()).token(token).build();
  }

  @Override
  public void close() {
    stop();
  }
}
