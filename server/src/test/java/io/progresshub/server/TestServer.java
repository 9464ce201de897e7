package io.progresshub.server;

import io.progresshub.core.Hub;
import io.progresshub.core.Job;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import io.progresshub.core.spi.JobStore;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real server on a random loopback port with auth on, for tests: mints tokens, makes HTTP calls
 * and opens WebSocket clients.
 *
 * <p>{@link #start} starts one at once, to close with try-with-resources. {@link #perClass} makes
 * one that a test class shares, started before its first test and closed after its last, when the
 * class declares it as a JUnit extension: {@code @RegisterExtension static final TestServer server
 * = TestServer.perClass();}
 */
final class TestServer implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
  /** Address limits that never refuse a test's connections. */
  static final AddressLimits UNLIMITED_ADDRESSES =
      new AddressLimits(1_000_000, Rate.UNLIMITED, List.of());

  static final byte[] SECRET =
      "test-secret-test-secret-test-secret!!".getBytes(StandardCharsets.UTF_8);

  Hub hub;
  ProgressHubServer server;
  final JwtTokens tokens = new JwtTokens(SECRET, Optional.empty(), Clock.systemUTC());
  final HttpClient http = HttpClient.newHttpClient();
  private static final AtomicInteger JOB_IDS = new AtomicInteger();
  private final Supplier<Hub> newHub;
  private final ServerConfig config;

  private TestServer(Supplier<Hub> newHub, ServerConfig config) {
    this.newHub = newHub;
    this.config = config;
  }

  private TestServer started() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    hub = newHub.get();
    server = ProgressHubServer.start(config, hub);
    return this;
  }

  /**
   * A server whose hub reports to the server's metrics, as the {@code serve} command wires them.
   */
  static TestServer withMetrics(UnaryOperator<ServerConfig> customize) {
    TestServer server = unstarted(Hub.builder()::build, customize);
    PrometheusHubMetrics metrics = PrometheusHubMetrics.create(server.config.metrics());
    server.hub = Hub.builder().metrics(metrics).build();
    server.server = ProgressHubServer.start(server.config, server.hub, metrics);
    return server;
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
    return unstarted(() -> hub, customize).started();
  }

  /** A server for a whole test class: register it as a static {@code @RegisterExtension}. */
  static TestServer perClass() {
    return perClass(config -> config);
  }

  static TestServer perClass(UnaryOperator<ServerConfig> customize) {
    return unstarted(() -> Hub.builder().build(), customize);
  }

  /** A per-class server whose hub runs on {@code clock} and never sweeps retention by itself. */
  static TestServer perClass(Clock clock) {
    return unstarted(
        () -> Hub.builder().clock(clock).retentionSweepInterval(Duration.ZERO).build(),
        config -> config);
  }

  private static TestServer unstarted(Supplier<Hub> newHub, UnaryOperator<ServerConfig> customize) {
    // Every test client comes from 127.0.0.1, and many tests open connections and publish far
    // faster than one real client would: the per-address and rate limits are off unless a test
    // sets them (the limit tests do).
    ServerConfig config =
        ServerConfig.defaults(AuthConfig.hs256(SECRET))
            .withNetwork(new NetworkConfig("127.0.0.1", 0, List.of(), Duration.ofSeconds(5)))
            .withAddresses(UNLIMITED_ADDRESSES)
            .withLimits(LimitsConfig.builder().publishRate(Rate.UNLIMITED).build());
    return new TestServer(newHub, customize.apply(config));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    started();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** The test server's limits with some values changed. */
  static final class Limits {
    private final LimitsConfig.Builder builder = LimitsConfig.builder().publishRate(Rate.UNLIMITED);

    static Limits defaults() {
      return new Limits();
    }

    Limits maxSubscriptionsPerConnection(int value) {
      builder.maxSubscriptionsPerConnection(value);
      return this;
    }

    Limits maxConnections(int value) {
      builder.maxConnections(value);
      return this;
    }

    Limits maxConnectionsPerUser(int value) {
      builder.maxConnectionsPerUser(value);
      return this;
    }

    Limits handshakeTimeout(Duration value) {
      builder.handshakeTimeout(value);
      return this;
    }

    Limits maxOutboundBytes(int value) {
      builder.maxOutboundBytes(value);
      return this;
    }

    Limits frameTimeout(Duration value) {
      builder.frameTimeout(value);
      return this;
    }

    Limits maxPendingCommands(int value) {
      builder.maxPendingCommands(value);
      return this;
    }

    Limits commandRate(Rate value) {
      builder.commandRate(value);
      return this;
    }

    Limits publishRate(Rate value) {
      builder.publishRate(value);
      return this;
    }

    Limits stallTimeout(Duration value) {
      builder.stallTimeout(value);
      return this;
    }

    Limits maxHttpConnections(int value) {
      builder.maxHttpConnections(value);
      return this;
    }

    LimitsConfig build() {
      return builder.build();
    }
  }

  /** A server whose limits differ from the defaults as {@code limits} says. */
  static TestServer withLimits(Limits limits) {
    return start(config -> config.withLimits(limits.build()));
  }

  /** Config with a short heartbeat interval (and so a short idle timeout). */
  static UnaryOperator<ServerConfig> heartbeat(Duration interval) {
    return config -> config.withWebSocket(new WebSocketConfig(interval, false));
  }

  /** Config with permessage-deflate offered to clients that ask (Netty's full WebSocket chain). */
  static UnaryOperator<ServerConfig> compression() {
    return config ->
        config.withWebSocket(new WebSocketConfig(config.webSocket().heartbeatInterval(), true));
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

  WsClient connect(String pathAndQuery, Map<String, String> headers) {
    return WsClient.connect(http, ws(pathAndQuery), headers);
  }

  /** A raw-socket client, for frames the JDK client will not send. */
  RawWsClient raw(String pathAndQuery) {
    return RawWsClient.connect(port(), pathAndQuery);
  }

  /**
   * The HTTP status the opening handshake gets: 101 when it is accepted (the connection is closed
   * again), else the refusal's status.
   */
  int handshakeStatus(String pathAndQuery, Map<String, String> headers) {
    try {
      WsClient.connect(http, ws(pathAndQuery), headers).close();
      return 101;
    } catch (CompletionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw e;
    }
  }

  /** Creates a job owned by {@code owner} under a fresh id and returns the id. */
  String newJob(String owner) {
    return createJob("job-" + JOB_IDS.incrementAndGet(), owner);
  }

  /** Publishes from inside the JVM (the embedding API): quicker than HTTP for many events. */
  Job publishDirect(String jobId, JobUpdate update) {
    return hub.publish(jobId, update);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    if (hub != null) {
      hub.close();
    }
    http.shutdownNow();
  }
}
