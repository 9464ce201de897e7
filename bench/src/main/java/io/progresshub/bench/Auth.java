package io.progresshub.bench;

import java.util.HashMap;
import java.util.Map;

/**
 * Tokens for a server with auth on (progress-hub, by default in the bench): HS256 tokens minted
 * with the secret the runner gave the server. WebSocket clients are spread over several users
 * because progress-hub caps connections per user (1,000 by default); the reference servers ignore
 * the header.
 */
final class Auth {
  /** Below progress-hub's default max-connections-per-user (1,000). */
  static final int CONNECTIONS_PER_USER = 900;

  private final byte[] secret;
  private final String userPrefix;
  private final Map<Integer, String> tokens = new HashMap<>();
  private final String publisherToken;

  Auth(byte[] secret) {
    this(secret, "bench-user-");
  }

  /**
   * Tokens whose users are named {@code userPrefix + n}: generator processes sharing one cluster
   * take different prefixes, so no user's connections add up across them.
   */
  Auth(byte[] secret, String userPrefix) {
    this.secret = secret;
    this.userPrefix = userPrefix;
    this.publisherToken =
        secret == null ? null : Jwt.hs256(secret, "bench-publisher", "admin", 24 * 3600);
  }

  static Auth none() {
    return new Auth(null);
  }

  boolean enabled() {
    return secret != null;
  }

  /** The token for WebSocket connection {@code index}, or null without auth. */
  String tokenFor(int index) {
    if (secret == null) {
      return null;
    }
    return tokens.computeIfAbsent(
        index / CONNECTIONS_PER_USER,
        user -> Jwt.hs256(secret, userPrefix + user, "publisher", 24 * 3600));
  }

  /** The HS256 secret, for generator processes of our own; null without auth. */
  byte[] secret() {
    return secret;
  }

  /** The publisher's token (admin role: create, publish, stats), or null without auth. */
  String publisherToken() {
    return publisherToken;
  }
}
