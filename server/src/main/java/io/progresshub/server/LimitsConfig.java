package io.progresshub.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds that keep bad or hostile input from costing memory or CPU. Each is answered with a clear
 * error and loses no accepted data. Build with {@link #builder()}; every value has a documented
 * default.
 *
 * @param maxFrameBytes largest WebSocket message a client may send (default 64 KiB)
 * @param frameTimeout time a client has to finish a WebSocket frame, or a fragmented message, once
 *     it started it; a trickled frame past it is closed with 1008 (default 10 s)
 * @param maxBodyBytes largest HTTP request body (default 1 MiB)
 * @param maxJsonDepth deepest JSON nesting accepted (default 32)
 * @param maxSubscriptionsPerConnection jobs one WebSocket may watch at once (default 100)
 * @param maxPendingCommands subscribe and cancel commands of one WebSocket waiting for the store at
 *     once; reading from the connection pauses at the bound (default 4)
 * @param commandRate commands one WebSocket may send: past it a command gets {@code rate_limited},
 *     and a client that keeps going is closed with 4429 (default 100/s, burst 200)
 * @param maxConnections open WebSockets and SSE streams in total (default 100,000)
 * @param maxConnectionsPerUser WebSockets and SSE streams per {@code sub} (default 1,000)
 * @param maxHttpConnections plain HTTP connections (not upgraded, not streaming) in total (default
 *     10,000)
 * @param publishRate events one token's {@code sub} may publish, batch entries included; past it
 *     {@code 429 rate_limited} with {@code Retry-After} (default 1,000/s, burst 2,000)
 * @param handshakeTimeout time to finish the HTTP upgrade, and to send {@code auth} when the
 *     handshake carried no token (default 5 s)
 * @param maxOutboundBytes bytes queued for a slow connection before it is closed with 4008 (default
 *     1 MiB); every byte the server writes counts, control frames included
 * @param stallTimeout how long a connection may go without reading what we send (its socket stays
 *     full) before it is closed with 4008, however little it holds; it is not read from meanwhile
 *     (default 10 s)
 */
public record LimitsConfig(
    int maxFrameBytes,
    Duration frameTimeout,
    int maxBodyBytes,
    int maxJsonDepth,
    int maxSubscriptionsPerConnection,
    int maxPendingCommands,
    Rate commandRate,
    int maxConnections,
    int maxConnectionsPerUser,
    int maxHttpConnections,
    Rate publishRate,
    Duration handshakeTimeout,
    int maxOutboundBytes,
    Duration stallTimeout) {

  public LimitsConfig {
    positive("maxFrameBytes", maxFrameBytes);
    positive("frameTimeout", frameTimeout);
    positive("maxBodyBytes", maxBodyBytes);
    positive("maxJsonDepth", maxJsonDepth);
    positive("maxSubscriptionsPerConnection", maxSubscriptionsPerConnection);
    positive("maxPendingCommands", maxPendingCommands);
    Objects.requireNonNull(commandRate, "commandRate");
    positive("maxConnections", maxConnections);
    positive("maxConnectionsPerUser", maxConnectionsPerUser);
    positive("maxHttpConnections", maxHttpConnections);
    Objects.requireNonNull(publishRate, "publishRate");
    positive("handshakeTimeout", handshakeTimeout);
    positive("maxOutboundBytes", maxOutboundBytes);
    positive("stallTimeout", stallTimeout);
  }

  public static LimitsConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these values. */
  public Builder toBuilder() {
    return new Builder()
        .maxFrameBytes(maxFrameBytes)
        .frameTimeout(frameTimeout)
        .maxBodyBytes(maxBodyBytes)
        .maxJsonDepth(maxJsonDepth)
        .maxSubscriptionsPerConnection(maxSubscriptionsPerConnection)
        .maxPendingCommands(maxPendingCommands)
        .commandRate(commandRate)
        .maxConnections(maxConnections)
        .maxConnectionsPerUser(maxConnectionsPerUser)
        .maxHttpConnections(maxHttpConnections)
        .publishRate(publishRate)
        .handshakeTimeout(handshakeTimeout)
        .maxOutboundBytes(maxOutboundBytes)
        .stallTimeout(stallTimeout);
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }

  /** Builds a {@link LimitsConfig}; starts from the defaults. */
  public static final class Builder {
    private int maxFrameBytes = 64 * 1024;
    private Duration frameTimeout = Duration.ofSeconds(10);
    private int maxBodyBytes = 1024 * 1024;
    private int maxJsonDepth = 32;
    private int maxSubscriptionsPerConnection = 100;
    private int maxPendingCommands = 4;
    private Rate commandRate = new Rate(100, 200);
    private int maxConnections = 100_000;
    private int maxConnectionsPerUser = 1_000;
    private int maxHttpConnections = 10_000;
    private Rate publishRate = new Rate(1_000, 2_000);
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private int maxOutboundBytes = 1024 * 1024;
    private Duration stallTimeout = Duration.ofSeconds(10);

    private Builder() {}

    public Builder maxFrameBytes(int value) {
      maxFrameBytes = value;
      return this;
    }

    public Builder frameTimeout(Duration value) {
      frameTimeout = value;
      return this;
    }

    public Builder maxBodyBytes(int value) {
      maxBodyBytes = value;
      return this;
    }

    public Builder maxJsonDepth(int value) {
      maxJsonDepth = value;
      return this;
    }

    public Builder maxSubscriptionsPerConnection(int value) {
      maxSubscriptionsPerConnection = value;
      return this;
    }

    public Builder maxPendingCommands(int value) {
      maxPendingCommands = value;
      return this;
    }

    public Builder commandRate(Rate value) {
      commandRate = value;
      return this;
    }

    public Builder maxConnections(int value) {
      maxConnections = value;
      return this;
    }

    public Builder maxConnectionsPerUser(int value) {
      maxConnectionsPerUser = value;
      return this;
    }

    public Builder maxHttpConnections(int value) {
      maxHttpConnections = value;
      return this;
    }

    public Builder publishRate(Rate value) {
      publishRate = value;
      return this;
    }

    public Builder handshakeTimeout(Duration value) {
      handshakeTimeout = value;
      return this;
    }

    public Builder maxOutboundBytes(int value) {
      maxOutboundBytes = value;
      return this;
    }

    public Builder stallTimeout(Duration value) {
      stallTimeout = value;
      return this;
    }

    public LimitsConfig build() {
      return new LimitsConfig(
          maxFrameBytes,
          frameTimeout,
          maxBodyBytes,
          maxJsonDepth,
          maxSubscriptionsPerConnection,
          maxPendingCommands,
          commandRate,
          maxConnections,
          maxConnectionsPerUser,
          maxHttpConnections,
          publishRate,
          handshakeTimeout,
          maxOutboundBytes,
          stallTimeout);
    }
  }
}
