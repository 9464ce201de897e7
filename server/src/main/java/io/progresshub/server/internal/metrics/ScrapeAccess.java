package io.progresshub.server.internal.metrics;

import io.netty.handler.codec.http.HttpHeaders;
import io.progresshub.server.MetricsConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Who may scrape {@code /metrics} without a token, under each {@link MetricsConfig.Access}. */
public final class ScrapeAccess {
  private ScrapeAccess() {}

  /**
   * Whether a request from {@code peer} with {@code headers} may scrape without a token. Under
   * {@code open-on-loopback}, a request that names a forwarded client (a proxy on this host passing
   * on a request from elsewhere) is not a loopback request, whatever its peer.
   */
  public static boolean openWithoutToken(
      MetricsConfig.Access access, SocketAddress peer, HttpHeaders headers) {
    return switch (access) {
      case OPEN -> true;
      case OFF, TOKEN -> false;
      case OPEN_ON_LOOPBACK -> isLoopback(peer) && !forwarded(headers);
    };
  }

  static boolean isLoopback(SocketAddress peer) {
    if (!(peer instanceof InetSocketAddress inet)) {
      return false;
    }
    InetAddress address = inet.getAddress();
    return address != null && address.isLoopbackAddress();
  }

  private static boolean forwarded(HttpHeaders headers) {
    return headers.contains("X-Forwarded-For")
        || headers.contains("Forwarded")
        || headers.contains("X-Real-IP");
  }
}
