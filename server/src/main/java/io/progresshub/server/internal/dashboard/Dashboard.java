package io.progresshub.server.internal.dashboard;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.ServerInitializer;
import io.progresshub.server.internal.WireErrors;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the dashboard: {@code /} is its page, {@code /dashboard/{file}} its scripts, styles and
 * the JavaScript client, from the classpath directory {@code dashboard/} that the server's build
 * copies there. Open to anyone, on the event loop (the files are in memory); each answer carries a
 * Content-Security-Policy that lets the page load only its own files and talk only to this server.
 */
public final class Dashboard {
  private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);

  private static final String PREFIX = "/dashboard/";
  private static final String INDEX = "index.html";

  /** A Host header fit to go into a policy; anything else gets {@code 'self'} alone. */
  private static final Pattern HOST =
      Pattern.compile("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?");

  private final StaticAssets assets;

  private Dashboard(StaticAssets assets) {
    this.assets = assets;
  }

  /** The dashboard of the server's classpath. */
  public static Dashboard fromClasspath() {
    StaticAssets assets = StaticAssets.fromClasspath("dashboard", INDEX);
    if (assets.isEmpty()) {
      // A jar built without the server module's resources: the API works, / is a 404.
      LOG.warn("No dashboard files on the class path (dashboard/{}): / answers 404", INDEX);
    }
    return new Dashboard(assets);
  }

  /** Whether {@code path} (decoded) is the dashboard's to answer. */
  public boolean serves(String path) {
    return path.equals("/") || path.equals("/dashboard") || path.startsWith(PREFIX);
  }

  /** Answers a request for one of the paths it {@link #serves}. */
  public void handle(HttpRequest request, String path, HttpResponses.Target target) {
    HttpMethod method = request.method();
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      HttpResponses.error(
          target,
          new WireErrors.WireError(
              ErrorCode.METHOD_NOT_ALLOWED,
              "method not allowed (expected: GET, HEAD)",
              Optional.empty()),
          new DefaultHttpHeaders().set(HttpHeaderNames.ALLOW, "GET, HEAD"));
      return;
    }
    String name =
        path.equals("/") ? INDEX : path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
    Optional<StaticAssets.Asset> asset = assets.get(name);
    if (asset.isEmpty()) {
      HttpResponses.error(target, ErrorCode.NOT_FOUND, "no such file");
      return;
    }
    HttpHeaders headers = headers(request, target, asset.get());
    String ifNoneMatch = request.headers().get(HttpHeaderNames.IF_NONE_MATCH);
    if (ifNoneMatch != null && matches(ifNoneMatch, asset.get().etag())) {
      HttpResponses.file(target, HttpResponseStatus.NOT_MODIFIED, headers, new byte[0]);
      return;
    }
    HttpResponses.file(target, HttpResponseStatus.OK, headers, asset.get().body());
  }

  private static HttpHeaders headers(
      HttpRequest request, HttpResponses.Target target, StaticAssets.Asset asset) {
    boolean tls = target.ctx().pipeline().get(ServerInitializer.TLS) != null;
    return new DefaultHttpHeaders()
        .set(HttpHeaderNames.CONTENT_TYPE, asset.contentType())
        .set(HttpHeaderNames.ETAG, asset.etag())
        // Not versioned by name: a browser may keep a copy but asks whether it is still current.
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
        .set(
            HttpHeaderNames.CONTENT_SECURITY_POLICY,
            policy(request.headers().get(HttpHeaderNames.HOST), tls))
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set("X-Frame-Options", "DENY");
  }

  /**
   * The page may run only its own scripts and styles (no inline ones, no eval), connect only to
   * this server, over HTTP and its WebSocket, and be framed by no one: a token in the page's
   * storage cannot be sent elsewhere by injected markup.
   */
  static String policy(String host, boolean tls) {
    String sockets =
        host != null && HOST.matcher(host).matches() ? " " + (tls ? "wss://" : "ws://") + host : "";
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
        + " connect-src 'self'"
        + sockets
        + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  }

  private static boolean matches(String ifNoneMatch, String etag) {
    for (String candidate : ifNoneMatch.split(",")) {
      String tag = candidate.strip();
      if (tag.equals("*") || tag.equals(etag) || tag.equals("W/" + etag)) {
        return true;
      }
    }
    return false;
  }
}
