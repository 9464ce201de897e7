package io.progresshub.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * TLS on the server's port, so HTTPS, WSS and SSE need no proxy in front. Only TLS 1.2 and 1.3 are
 * offered.
 *
 * @param certificateChain PEM file: the server's certificate first, then any intermediates
 * @param privateKey PEM file with the certificate's unencrypted PKCS#8 key ({@code BEGIN PRIVATE
 *     KEY})
 * @param reloadInterval how often the files' modification times are checked; when they change, new
 *     connections get the new certificate and open ones keep theirs
 */
public record TlsConfig(Path certificateChain, Path privateKey, Duration reloadInterval) {

  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(5);

  public TlsConfig {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    if (!reloadInterval.isPositive()) {
      throw new IllegalArgumentException("reloadInterval: " + reloadInterval + " (expected: > 0)");
    }
  }

  public TlsConfig(Path certificateChain, Path privateKey) {
    this(certificateChain, privateKey, DEFAULT_RELOAD_INTERVAL);
  }
}
