package io.progresshub.server;

import io.progresshub.server.auth.AuthConfig;
import java.util.Objects;

/**
 * Everything the transport needs, split by concern. Defaults are production-safe: auth on, limits
 * on, browsers from other origins refused unless allowed.
 */
public record ServerConfig(
    NetworkConfig network,
    AuthConfig auth,
    LimitsConfig limits,
    AddressLimits addresses,
    WebSocketConfig webSocket,
    MetricsConfig metrics,
    AccessLogConfig accessLog) {

  public ServerConfig {
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(addresses, "addresses");
    Objects.requireNonNull(webSocket, "webSocket");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(accessLog, "accessLog");
  }

  /** Defaults on loopback, with the given auth. */
  public static ServerConfig defaults(AuthConfig auth) {
    return new ServerConfig(
        NetworkConfig.defaults(),
        auth,
        LimitsConfig.defaults(),
        AddressLimits.defaults(),
        WebSocketConfig.defaults(),
        MetricsConfig.defaults(),
        AccessLogConfig.defaults());
  }

  public ServerConfig withNetwork(NetworkConfig network) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }

  public ServerConfig withLimits(LimitsConfig limits) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }

  public ServerConfig withAddresses(AddressLimits addresses) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }

  public ServerConfig withWebSocket(WebSocketConfig webSocket) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }

  public ServerConfig withMetrics(MetricsConfig metrics) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }

  public ServerConfig withAccessLog(AccessLogConfig accessLog) {
    return new ServerConfig(network, auth, limits, addresses, webSocket, metrics, accessLog);
  }
}
