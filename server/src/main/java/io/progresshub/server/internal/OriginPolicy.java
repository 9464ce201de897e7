package io.progresshub.server.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides which browser origins may use the server. Guards against cross-site WebSocket hijacking:
 * a page on another site must not open a socket with the user's ambient credentials. Requests
 * without {@code Origin} (non-browser clients) and same-origin requests are always allowed.
 */
public final class OriginPolicy {
  private final boolean any;
  private final Set<String> allowed;

  public OriginPolicy(List<String> allowedOrigins) {
    this.any = allowedOrigins.contains("*");
    this.allowed =
        allowedOrigins.stream()
            .map(origin -> origin.toLowerCase(Locale.ROOT).replaceAll("/+$", ""))
            .collect(Collectors.toUnmodifiableSet());
  }

  public boolean allows(HttpRequest request) {
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    if (origin == null || any) {
      return true;
    }
    String normalized = origin.toLowerCase(Locale.ROOT);
    return allowed.contains(normalized) || isSameOrigin(normalized, request);
  }

  /** The request's {@code Origin} header, or null when it has none. */
  public static String origin(HttpRequest request) {
    return request.headers().get(HttpHeaderNames.ORIGIN);
  }

  private static boolean isSameOrigin(String origin, HttpRequest request) {
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (host == null) {
      return false;
    }
    try {
      URI uri = URI.create(origin);
      if (uri.getHost() == null) {
        return false;
      }
      String originHost = uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
      String hostHeader = host.toLowerCase(Locale.ROOT);
      return originHost.equals(hostHeader)
          || (uri.getPort() == -1 && hostHeader.equals(uri.getHost() + ":" + defaultPort(uri)));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static int defaultPort(URI uri) {
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }
}
