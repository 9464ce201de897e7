package io.progresshub.server;

import io.progresshub.core.Hub;
import io.progresshub.core.Role;
import io.progresshub.core.spi.JobStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A real server on a random loopback port with auth on, for tests: mints tokens, makes HTTP calls
 * and opens WebSocket clients.
 */
final class TestServer implements AutoCloseable {
  static final byte[] SECRET =
      "test-secret-test-secret-test-secret!!".getBytes(StandardCharsets.UTF_8);

  final Hub hub;
  final ProgressHubServer server;
  final JwtTokens tokens = new JwtTokens(SECRET, Optional.empty(), Clock.systemUTC());
  final HttpClient http = HttpClient.newHttpClient();

  private TestServer(Hub hub, ServerConfig config) {
    this.hub = hub;
    this.server = ProgressHubServer.start(config, hub);
  }

  static TestServer start() {
    return start(config -> config);
  }

  static TestServer start(UnaryOperator<ServerConfig> customize) {
    return start(Hub.builder().build(), customize);
  }

  static TestServer start(JobStore store, UnaryOperator<ServerConfig> customize) {
    return start(Hub.builder().store(store).build(), customize);
  }

  static TestServer start(Hub hub, UnaryOperator<ServerConfig> customize) {
    ServerConfig config =
        ServerConfig.defaults(AuthConfig.hs256(SECRET))
            .withNetwork(new NetworkConfig("127.0.0.1", 0, List.of(), Duration.ofSeconds(5)));
    return new TestServer(hub, customize.apply(config));
  }

  int port() {
    return server.port();
  }

  URI http(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  URI ws(String pathAndQuery) {
    return URI.create("ws://127.0.0.1:" + port() + pathAndQuery);
  }

  String token(String subject, Role role, String... jobs) {
    return tokens.issue(subject, role, List.of(jobs), Duration.ofHours(1));
  }

  String admin() {
    return token("admin", Role.ADMIN);
  }

  String publisher() {
    return token("worker", Role.PUBLISHER);
  }

  HttpResponse<String> send(String method, String path, String token, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(http(path))
            .timeout(Duration.ofSeconds(10))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Creates a job as the publisher and returns its id. */
  String createJob(String id, String owner) {
    HttpResponse<String> response =
        send(
            "POST",
            "/api/jobs",
            publisher(),
            "{\"id\":\"" + id + "\",\"owner\":\"" + owner + "\"}");
    if (response.statusCode() != 201) {
      throw new IllegalStateException(
          "create failed: " + response.statusCode() + " " + response.body());
    }
    return id;
  }

  HttpResponse<String> publish(String jobId, String json) {
    return send("POST", "/api/jobs/" + jobId + "/events", publisher(), json);
  }

  WsClient connect(String pathAndQuery) {
    return WsClient.connect(http, ws(pathAndQuery), Optional.empty());
  }

  @Override
  public void close() {
    server.close();
    hub.close();
  }
}
