package io.progresshub.server;

import java.time.Duration;

/**
 * Bounds that keep bad or hostile input from costing memory or CPU. Each is answered with a clear
 * error and loses no accepted data.
 *
 * @param maxFrameBytes largest WebSocket message a client may send (default 64 KiB)
 * @param maxBodyBytes largest HTTP request body (default 1 MiB)
 * @param maxJsonDepth deepest JSON nesting accepted (default 32)
 * @param maxSubscriptionsPerConnection jobs one WebSocket may watch at once (default 100)
 * @param maxConnections open WebSockets and SSE streams in total (default 100,000)
 * @param maxConnectionsPerUser per {@code sub} (default 1,000)
 * @param handshakeTimeout time to finish the HTTP upgrade, and to send {@code auth} when the
 *     handshake carried no token (default 5 s)
 * @param maxOutboundBytes bytes queued for a slow connection before it is closed with 4008 (default
 *     1 MiB)
 */
public record LimitsConfig(
    int maxFrameBytes,
    int maxBodyBytes,
    int maxJsonDepth,
    int maxSubscriptionsPerConnection,
    int maxConnections,
    int maxConnectionsPerUser,
    Duration handshakeTimeout,
    int maxOutboundBytes) {

  public LimitsConfig {
    positive("maxFrameBytes", maxFrameBytes);
    positive("maxBodyBytes", maxBodyBytes);
    positive("maxJsonDepth", maxJsonDepth);
    positive("maxSubscriptionsPerConnection", maxSubscriptionsPerConnection);
    positive("maxConnections", maxConnections);
    positive("maxConnectionsPerUser", maxConnectionsPerUser);
    positive("maxOutboundBytes", maxOutboundBytes);
    if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
      throw new IllegalArgumentException(
          "handshakeTimeout: " + handshakeTimeout + " (expected: > 0)");
    }
  }

  public static LimitsConfig defaults() {
    return new LimitsConfig(
        64 * 1024, 1024 * 1024, 32, 100, 100_000, 1_000, Duration.ofSeconds(5), 1024 * 1024);
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
