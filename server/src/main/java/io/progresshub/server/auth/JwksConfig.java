package io.progresshub.server.auth;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Public keys for RS256 and ES256 tokens from a JSON Web Key Set (an identity provider's {@code
 * jwks_uri}). The algorithm of each key follows from its type, never from the token: an RSA key (at
 * least 2048 bits) verifies RS256 only, a P-256 EC key ES256 only.
 *
 * @param url where the key set is fetched ({@code https}, or {@code http} on a trusted network)
 * @param refreshInterval the keys are fetched again in the background once they are this old
 * @param minRefreshInterval a token naming a key id that is not in the set fetches it again at most
 *     once per this interval, so tokens with made-up key ids cannot make the server hammer the
 *     identity provider
 * @param fetchTimeout how long one fetch may take, and so how long a token with a new key id may
 *     wait for it
 */
public record JwksConfig(
    URI url, Duration refreshInterval, Duration minRefreshInterval, Duration fetchTimeout) {

  public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofMinutes(10);
  public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(3);

  public JwksConfig {
    Objects.requireNonNull(url, "url");
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("https") || scheme.equals("http")) || url.getHost() == null) {
      throw new IllegalArgumentException("JWKS URL: " + url + " (expected: an https:// URL)");
    }
    for (Duration duration : new Duration[] {refreshInterval, minRefreshInterval, fetchTimeout}) {
      if (!duration.isPositive()) {
        throw new IllegalArgumentException("JWKS interval: " + duration + " (expected: > 0)");
      }
    }
  }

  /** With the default intervals. */
  public JwksConfig(URI url) {
    this(url, DEFAULT_REFRESH_INTERVAL, DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_FETCH_TIMEOUT);
  }
}
