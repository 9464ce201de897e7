package io.progresshub.server;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how the server listens.
 *
 * @param host address to bind ({@code 127.0.0.1} by default; {@code 0.0.0.0} for all)
 * @param port TCP port; 0 picks a free one
 * @param allowedOrigins browser origins allowed to open WebSockets and call the API ({@code *} for
 *     any); same-origin requests and non-browser clients (no {@code Origin}) are always allowed
 * @param shutdownGrace how long graceful shutdown waits for connections to close
 * @param transport the socket I/O engine: {@code auto} (epoll where available, else NIO), {@code
 *     epoll}, {@code io_uring} or {@code nio}
 * @param tls if present, the port speaks only TLS (HTTPS, WSS); else only plain HTTP
 * @param drainSpread at shutdown each WebSocket is asked to wait a random time in [0, this) before
 *     reconnecting, and each SSE stream gets that {@code retry:}, so that the clients of a stopping
 *     node do not all land on the others at once (default 5 s; zero for no wait)
 */
public record NetworkConfig(
    String host,
    int port,
    List<String> allowedOrigins,
    Duration shutdownGrace,
    Transport transport,
    Optional<TlsConfig> tls,
    Duration drainSpread) {

  static final Duration DEFAULT_DRAIN_SPREAD = Duration.ofSeconds(5);

  /** The socket I/O engine the event loops use. */
  public enum Transport {
    AUTO,
    EPOLL,
    IO_URING,
    NIO;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Transport> fromWireName(String name) {
      for (Transport transport : values()) {
        if (transport.wireName().equals(name)) {
          return Optional.of(transport);
        }
      }
      return Optional.empty();
    }
  }

  public NetworkConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
    allowedOrigins = List.copyOf(allowedOrigins);
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(drainSpread, "drainSpread");
    if (drainSpread.isNegative()) {
      throw new IllegalArgumentException("drainSpread: " + drainSpread + " (expected: >= 0)");
    }
  }

  /** With the default drain spread. */
  public NetworkConfig(
      String host,
      int port,
      List<String> allowedOrigins,
      Duration shutdownGrace,
      Transport transport,
      Optional<TlsConfig> tls) {
    this(host, port, allowedOrigins, shutdownGrace, transport, tls, DEFAULT_DRAIN_SPREAD);
  }

  /** Without TLS. */
  public NetworkConfig(
      String host,
      int port,
      List<String> allowedOrigins,
      Duration shutdownGrace,
      Transport transport) {
    this(host, port, allowedOrigins, shutdownGrace, transport, Optional.empty());
  }

  /** With the automatic transport choice. */
  public NetworkConfig(String host, int port, List<String> allowedOrigins, Duration shutdownGrace) {
    this(host, port, allowedOrigins, shutdownGrace, Transport.AUTO);
  }

  public static NetworkConfig defaults() {
    return new NetworkConfig("127.0.0.1", 8080, List.of(), Duration.ofSeconds(10));
  }

  public NetworkConfig withHost(String host) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }

  public NetworkConfig withPort(int port) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }

  public NetworkConfig withAllowedOrigins(List<String> allowedOrigins) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }

  public NetworkConfig withTransport(Transport transport) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }

  public NetworkConfig withTls(TlsConfig tls) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, Optional.of(tls), drainSpread);
  }

  /** With TLS if {@code tls} is present, else plain HTTP. */
  public NetworkConfig withTls(Optional<TlsConfig> tls) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }

  public NetworkConfig withDrainSpread(Duration drainSpread) {
    return new NetworkConfig(
        host, port, allowedOrigins, shutdownGrace, transport, tls, drainSpread);
  }
}
