package io.progresshub.server;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where and how the server listens.
 *
 * @param host address to bind ({@code 127.0.0.1} by default; {@code 0.0.0.0} for all)
 * @param port TCP port; 0 picks a free one
 * @param allowedOrigins browser origins allowed to open WebSockets and call the API ({@code *} for
 *     any); same-origin requests and non-browser clients (no {@code Origin}) are always allowed
 * @param shutdownGrace how long graceful shutdown waits for connections to close
 */
public record NetworkConfig(
    String host, int port, List<String> allowedOrigins, Duration shutdownGrace) {

  public NetworkConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
    allowedOrigins = List.copyOf(allowedOrigins);
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
  }

  public static NetworkConfig defaults() {
    return new NetworkConfig("127.0.0.1", 8080, List.of(), Duration.ofSeconds(10));
  }

  public NetworkConfig withPort(int port) {
    return new NetworkConfig(host, port, allowedOrigins, shutdownGrace);
  }
}
