package io.progresshub.server;

import io.progresshub.server.internal.AddressBlock;
import java.util.List;
import java.util.Objects;

/**
 * Limits per client address, and which peers may name the client's address for it.
 *
 * @param maxConnectionsPerAddress open connections of every kind (HTTP, WebSocket, SSE) from one
 *     client address (IPv6: one /64) (default 1,000)
 * @param connectRate new connections per client address; past it the first request is answered
 *     {@code 429} with {@code Retry-After}, or a WebSocket is closed with 4429 after the upgrade
 *     (default 20/s, burst 100)
 * @param trustedProxies peers (IP addresses or CIDR blocks such as {@code 10.0.0.0/8}) whose {@code
 *     X-Forwarded-For} header is believed; the client is the nearest address in it that is not a
 *     trusted proxy. Empty by default: the header is ignored.
 */
public record AddressLimits(
    int maxConnectionsPerAddress, Rate connectRate, List<String> trustedProxies) {

  public AddressLimits {
    if (maxConnectionsPerAddress <= 0) {
      throw new IllegalArgumentException(
          "maxConnectionsPerAddress: " + maxConnectionsPerAddress + " (expected: > 0)");
    }
    Objects.requireNonNull(connectRate, "connectRate");
    trustedProxies = List.copyOf(trustedProxies);
    trustedProxies.forEach(AddressBlock::parse); // fails early on a bad entry
  }

  public static AddressLimits defaults() {
    return new AddressLimits(1_000, new Rate(20, 100), List.of());
  }

  public AddressLimits withMaxConnectionsPerAddress(int value) {
    return new AddressLimits(value, connectRate, trustedProxies);
  }

  public AddressLimits withConnectRate(Rate value) {
    return new AddressLimits(maxConnectionsPerAddress, value, trustedProxies);
  }

  public AddressLimits withTrustedProxies(List<String> value) {
    return new AddressLimits(maxConnectionsPerAddress, connectRate, value);
  }
}
