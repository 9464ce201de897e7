package io.progresshub.server.auth;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Finds the caller of a request: a bearer token in the {@code Authorization} header or the {@code
 * token} query parameter (for browsers' WebSocket and EventSource, which cannot set headers). With
 * auth switched off every caller is the developer (admin).
 */
public final class Authenticator {
  private final JwtTokens tokens;
  private final Runnable onRefused;

  public Authenticator(AuthConfig config) {
    this(config, () -> {});
  }

  /** An authenticator that runs {@code onRefused} (a counter) for every token it refuses. */
  public Authenticator(AuthConfig config, Runnable onRefused) {
    this.tokens = config.enabled() ? JwtTokens.of(config) : null;
    this.onRefused = onRefused;
  }

  public boolean enabled() {
    return tokens != null;
  }

  /** The token the request carries, if any. */
  public static Optional<String> token(HttpRequest request, QueryStringDecoder query) {
    String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.of(header.substring(7).trim());
    }
    List<String> values = query.parameters().get("token");
    if (values != null && !values.isEmpty() && !values.get(0).isEmpty()) {
      return Optional.of(values.get(0));
    }
    return Optional.empty();
  }

  /**
   * The caller, or empty when the request carries no token and auth is on.
   *
   * @throws HubException kind UNAUTHORIZED for a bad, expired or wrongly signed token
   */
  public Optional<Principal> authenticate(Optional<String> token) {
    if (tokens == null) {
      return Optional.of(Principal.developer());
    }
    return token.map(this::verified);
  }

  /**
   * The instant {@code token} stops being accepted, if it says when: its {@code exp} plus the clock
   * skew every check allows, so a WebSocket or SSE stream ends exactly when REST starts refusing
   * the same token.
   */
  public Optional<Instant> expiry(String token) {
    return (tokens == null ? JwtTokens.unverifiedExpiry(token) : tokens.verifiedExpiry(token))
        .map(exp -> exp.plus(JwtTokens.CLOCK_SKEW));
  }

  /** Verifies a token given in a WebSocket {@code auth} message. */
  public Principal verify(String token) {
    if (tokens == null) {
      return Principal.developer();
    }
    return verified(token);
  }

  private Principal verified(String token) {
    try {
      return tokens.verify(token);
    } catch (HubException refused) {
      onRefused.run();
      throw refused;
    }
  }
}
