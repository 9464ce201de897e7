package io.progresshub.cli;

import io.progresshub.core.JobLimits;
import io.progresshub.redis.RedisSettings;
import io.progresshub.server.AccessLogConfig;
import io.progresshub.server.AddressLimits;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.MetricsConfig;
import io.progresshub.server.NetworkConfig;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.TlsConfig;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwksConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code progress-hub serve} runs with, merged from flags, environment, config file and
 * defaults by {@link SettingsLoader}. Every value here is valid.
 *
 * @param host address to bind
 * @param port TCP port, 0 for any free one
 * @param dataDir where the SQLite store and the generated JWT secret live
 * @param jwtSecret the configured HS256 secret; empty means the data directory's (see {@link
 *     JwtSecrets})
 * @param allowedOrigins browser origins allowed besides same-origin ({@code *} for any)
 * @param retention how long finished jobs are kept
 * @param heartbeatInterval WebSocket ping and JSON heartbeat interval
 * @param monitorInterval how often {@code /ws/monitor} gets a {@code system_status}
 * @param drainSpread the window over which the clients of a stopping server are told to reconnect
 * @param drainDelay how long a stopping server answers {@code /ready} with 503 while still serving,
 *     before it closes
 * @param limits the bounds on connections, input, rates and outbound bytes
 * @param addresses the limits per client address, and the trusted proxies
 * @param hub the bounds the hub and its store keep: replay, job state, store queue
 * @param transport the socket I/O engine (last component)
 * @param webSocketCompression whether permessage-deflate is offered to WebSocket clients
 * @param insecureNoAuth development only: no authentication at all
 * @param tls the certificate and key files when the port speaks TLS
 * @param jwt where else tokens may come from, and the claims they must carry
 * @param metrics who may scrape {@code /metrics}, or off
 * @param accessLog the access log's line format
 * @param redis the Redis this node shares its jobs with other nodes through, instead of the SQLite
 *     store in the data directory
 */
record Settings(
    String host,
    int port,
    Path dataDir,
    Optional<String> jwtSecret,
    List<String> allowedOrigins,
    Duration retention,
    Duration heartbeatInterval,
    Duration monitorInterval,
    Duration drainSpread,
    Duration drainDelay,
    LimitsConfig limits,
    AddressLimits addresses,
    HubLimits hub,
    boolean insecureNoAuth,
    NetworkConfig.Transport transport,
    boolean webSocketCompression,
    Optional<TlsConfig> tls,
    Jwt jwt,
    MetricsConfig metrics,
    AccessLogConfig accessLog,
    Optional<Redis> redis) {

  /**
   * Token settings beside the secret.
   *
   * @param jwksUrl RS256 and ES256 keys of an identity provider
   * @param issuer the {@code iss} tokens must carry, and that {@code token} puts in
   * @param audience the {@code aud} tokens must contain, and that {@code token} puts in
   */
  record Jwt(Optional<URI> jwksUrl, Optional<String> issuer, Optional<String> audience) {
    static final Jwt NONE = new Jwt(Optional.empty(), Optional.empty(), Optional.empty());

    AuthConfig applyTo(AuthConfig auth) {
      AuthConfig withClaims = auth.withIssuer(issuer).withAudience(audience);
      return jwksUrl.map(url -> withClaims.withJwks(new JwksConfig(url))).orElse(withClaims);
    }
  }

  /**
   * Where a node finds Redis and how it names itself there.
   *
   * @param url a Lettuce URI: {@code redis://}, {@code rediss://} or {@code redis-sentinel://}
   * @param keyPrefix prepended to every key and channel: deployments with different prefixes share
   *     one Redis without seeing each other's jobs
   * @param commandTimeout how long one command, or the connect, may take
   * @param replicas how many replicas must hold an event before it is acknowledged
   * @param nodeId this node's name in what it broadcasts and in its log; empty for a random one
   */
  record Redis(
      String url,
      String keyPrefix,
      Duration commandTimeout,
      int replicas,
      Optional<String> nodeId) {

    /** The Redis engine's settings. */
    RedisSettings engine() {
      RedisSettings.Builder builder =
          RedisSettings.builder(url)
              .keyPrefix(keyPrefix)
              .commandTimeout(commandTimeout)
              .replicas(replicas);
      nodeId.ifPresent(builder::nodeId);
      return builder.build();
    }

    /** Without the URL's password: settings end up in logs. */
    @Override
    public String toString() {
      return "Redis[url="
          + url.replaceFirst("//[^/@]*@", "//")
          + ", keyPrefix="
          + keyPrefix
          + ", commandTimeout="
          + commandTimeout
          + ", replicas="
          + replicas
          + ", nodeId="
          + nodeId
          + "]";
    }
  }

  static final String DEFAULT_REDIS_PREFIX = RedisSettings.DEFAULT_KEY_PREFIX;
  static final Duration DEFAULT_REDIS_TIMEOUT = RedisSettings.DEFAULT_COMMAND_TIMEOUT;

  static final String DEFAULT_HOST = NetworkConfig.defaults().host();
  static final int DEFAULT_PORT = NetworkConfig.defaults().port();
  static final Path DEFAULT_DATA_DIR = Path.of("data");
  static final Duration DEFAULT_RETENTION = Duration.ofHours(24);
  static final Duration DEFAULT_HEARTBEAT_INTERVAL = WebSocketConfig.defaults().heartbeatInterval();
  static final Duration DEFAULT_MONITOR_INTERVAL = WebSocketConfig.defaults().monitorInterval();
  static final Duration DEFAULT_DRAIN_SPREAD = NetworkConfig.defaults().drainSpread();
  static final Duration DEFAULT_DRAIN_DELAY = Duration.ZERO;
  static final int DEFAULT_MAX_REPLAY = 10_000;

  /**
   * Bounds kept by the hub and its store rather than the transport.
   *
   * @param maxReplay most history entries replayed to one resuming subscriber
   * @param job metadata keys and bytes of state one job may hold
   * @param storeQueue writes waiting for the store before producers get 503
   * @param storeBusyTimeout longest the store waits for a write lock another process holds
   */
  record HubLimits(int maxReplay, JobLimits job, int storeQueue, Duration storeBusyTimeout) {}

  Settings {
    allowedOrigins = List.copyOf(allowedOrigins);
  }

  /** The server's configuration: these settings over the server's own defaults. */
  ServerConfig serverConfig(AuthConfig auth) {
    return ServerConfig.defaults(auth)
        .withNetwork(
            NetworkConfig.defaults()
                .withHost(host)
                .withPort(port)
                .withAllowedOrigins(allowedOrigins)
                .withTransport(transport)
                .withTls(tls)
                .withDrainSpread(drainSpread))
        .withLimits(limits)
        .withAddresses(addresses)
        .withWebSocket(
            WebSocketConfig.defaults()
                .withHeartbeatInterval(heartbeatInterval)
                .withMonitorInterval(monitorInterval)
                .withCompression(webSocketCompression))
        .withMetrics(metrics)
        .withAccessLog(accessLog);
  }
}
