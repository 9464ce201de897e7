package io.progresshub.cli;

/**
 * Where a started hub can be reached: the address it is bound to and the URLs a client on this
 * machine connects to.
 *
 * @param host the address the server is bound to, as configured (e.g. {@code 0.0.0.0})
 * @param port the bound TCP port (never 0 once the server listens)
 * @param tls whether the port speaks TLS (HTTPS, WSS)
 */
record HubAddress(String host, int port, boolean tls) {

  /** The REST API's base URL, e.g. {@code http://127.0.0.1:8080}. */
  String httpUrl() {
    return (tls ? "https://" : "http://") + urlHost() + ":" + port;
  }

  /** The WebSocket endpoint, e.g. {@code ws://127.0.0.1:8080/ws}. */
  String webSocketUrl() {
    return (tls ? "wss://" : "ws://") + urlHost() + ":" + port + "/ws";
  }

  /** Whether the server listens on every interface ({@code 0.0.0.0} or {@code ::}). */
  boolean allInterfaces() {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  /** The host part of a URL: localhost for a wildcard bind, IPv6 literals in brackets. */
  private String urlHost() {
    if (allInterfaces()) {
      return "localhost";
    }
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
