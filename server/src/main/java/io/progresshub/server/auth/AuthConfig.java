package io.progresshub.server.auth;

import java.util.Optional;

/**
 * How callers are authenticated. The accepted token algorithms follow from what is configured: an
 * HMAC secret accepts HS256, a JWKS accepts RS256 and ES256 with its keys. Nothing else is ever
 * accepted, whatever a token's header says.
 *
 * @param enabled false only for development ({@code --insecure-no-auth}): every caller is admin
 * @param hmacSecret the HS256 secret (at least 32 bytes)
 * @param jwks where RS256 and ES256 keys come from
 * @param issuer if present, tokens must carry this {@code iss}
 * @param audience if present, tokens' {@code aud} must contain it
 */
public record AuthConfig(
    boolean enabled,
    Optional<byte[]> hmacSecret,
    Optional<JwksConfig> jwks,
    Optional<String> issuer,
    Optional<String> audience) {

  public static final int MIN_SECRET_BYTES = 32;

  public AuthConfig {
    if (enabled && hmacSecret.isEmpty() && jwks.isEmpty()) {
      throw new IllegalArgumentException("auth is on but neither a JWT secret nor a JWKS is set");
    }
    if (hmacSecret.isPresent() && hmacSecret.get().length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "JWT secret: "
              + hmacSecret.get().length
              + " bytes (expected: >= "
              + MIN_SECRET_BYTES
              + ")");
    }
    hmacSecret = hmacSecret.map(byte[]::clone);
  }

  public static AuthConfig hs256(byte[] secret) {
    return new AuthConfig(
        true, Optional.of(secret), Optional.empty(), Optional.empty(), Optional.empty());
  }

  public static AuthConfig disabled() {
    return new AuthConfig(
        false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** Also RS256 and ES256 tokens signed by the keys at {@code jwks}. */
  public AuthConfig withJwks(JwksConfig jwks) {
    return new AuthConfig(enabled, hmacSecret, Optional.of(jwks), issuer, audience);
  }

  /** Without HS256: only tokens verified by the JWKS are accepted. */
  public AuthConfig withoutHmacSecret() {
    return new AuthConfig(enabled, Optional.empty(), jwks, issuer, audience);
  }

  public AuthConfig withIssuer(Optional<String> issuer) {
    return new AuthConfig(enabled, hmacSecret, jwks, issuer, audience);
  }

  public AuthConfig withAudience(Optional<String> audience) {
    return new AuthConfig(enabled, hmacSecret, jwks, issuer, audience);
  }
}
