package io.progresshub.cli;

import io.progresshub.server.AddressLimits;
import io.progresshub.server.AuthConfig;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.NetworkConfig;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.WebSocketConfig;
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
 * @param limits the bounds on connections, input, rates and outbound bytes
 * @param addresses the limits per client address, and the trusted proxies
 * @param maxReplay most history entries replayed to one resuming subscriber
 * @param transport the socket I/O engine (last component)
 * @param webSocketCompression whether permessage-deflate is offered to WebSocket clients
 * @param insecureNoAuth development only: no authentication at all
 */
record Settings(
    String host,
    int port,
    Path dataDir,
    Optional<String> jwtSecret,
    List<String> allowedOrigins,
    Duration retention,
    Duration heartbeatInterval,
    LimitsConfig limits,
    AddressLimits addresses,
    int maxReplay,
    boolean insecureNoAuth,
    NetworkConfig.Transport transport,
    boolean webSocketCompression) {

  static final String DEFAULT_HOST = NetworkConfig.defaults().host();
  static final int DEFAULT_PORT = NetworkConfig.defaults().port();
  static final Path DEFAULT_DATA_DIR = Path.of("data");
  static final Duration DEFAULT_RETENTION = Duration.ofHours(24);
  static final Duration DEFAULT_HEARTBEAT_INTERVAL = WebSocketConfig.defaults().heartbeatInterval();
  static final int DEFAULT_MAX_REPLAY = 10_000;

  Settings {
    allowedOrigins = List.copyOf(allowedOrigins);
  }

  /** The server's configuration: these settings over the server's own defaults. */
  ServerConfig serverConfig(AuthConfig auth) {
    NetworkConfig network = NetworkConfig.defaults();
    return new ServerConfig(
        new NetworkConfig(host, port, allowedOrigins, network.shutdownGrace(), transport),
        auth,
        limits,
        addresses,
        new WebSocketConfig(heartbeatInterval, webSocketCompression));
  }
}
