package io.progresshub.server;

import java.util.Optional;

/**
 * How callers are authenticated.
 *
 * @param enabled false only for development ({@code --insecure-no-auth}): every caller is admin
 * @param hmacSecret the HS256 secret (at least 32 bytes); required when enabled
 * @param issuer if present, tokens must carry this {@code iss}
 */
public record AuthConfig(boolean enabled, Optional<byte[]> hmacSecret, Optional<String> issuer) {

  public static final int MIN_SECRET_BYTES = 32;

  public AuthConfig {
    if (enabled) {
      byte[] secret =
          hmacSecret.orElseThrow(
              () -> new IllegalArgumentException("auth is on but no JWT secret is configured"));
      if (secret.length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException(
            "JWT secret: " + secret.length + " bytes (expected: >= " + MIN_SECRET_BYTES + ")");
      }
    }
  }

  public static AuthConfig hs256(byte[] secret) {
    return new AuthConfig(true, Optional.of(secret.clone()), Optional.empty());
  }

  public static AuthConfig disabled() {
    return new AuthConfig(false, Optional.empty(), Optional.empty());
  }
}
