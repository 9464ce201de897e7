package io.progresshub.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verification keys of a {@link JwksConfig}, by key id: fetched at start, again in the
 * background once older than the refresh interval, and at once when a token names a key id that is
 * not known, at most once per minimum refresh interval. A failed fetch keeps the keys known before.
 * A fetched set replaces the old one whole, so a key the identity provider withdrew stops
 * verifying.
 *
 * <p>Thread-safe. Lookups of known keys never block; a lookup of an unknown key id waits for the
 * fetch it causes (or one under way) for at most the fetch timeout.
 */
public final class JwksKeys {
  private static final Logger LOG = LoggerFactory.getLogger(JwksKeys.class);

  /** A key set is a few KiB; more is a misconfigured URL, not keys. */
  public static final int MAX_BYTES = 256 * 1024;

  /** The smallest RSA key accepted: shorter ones can be factored. */
  private static final int MIN_RSA_BITS = 2048;

  /** One usable key: the only algorithm it verifies, and its verifier, made once per fetch. */
  public record Key(JWSAlgorithm algorithm, JWSVerifier verifier) {}

  private final JwksConfig config;
  private final Clock clock;
  private final HttpClient http;
  private volatile Map<String, Key> keys = Map.of();
  private volatile Instant fetchedAt; // last successful fetch; null before the first

  // Guarded by this.
  private CompletableFuture<Void> inFlight;
  private Instant lastFetchStarted;
  private Instant lastUnknownKeyFetch;

  public JwksKeys(JwksConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(config.fetchTimeout())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    fetchInBackground(); // so that the first tokens find their keys
  }

  /**
   * The key with this id. An unknown id fetches the set again (unless one was fetched for an
   * unknown id less than the minimum refresh interval ago) and waits for it, except on a Netty
   * event loop: a loop serves thousands of connections and must not stop for the identity provider,
   * so there the token is refused now and the client's retry finds the fetched key.
   */
  public Optional<Key> key(String kid) {
    Key key = keys.get(kid);
    if (key != null) {
      if (isStale()) {
        fetchInBackground();
      }
      return Optional.of(key);
    }
    CompletableFuture<Void> fetch = fetchForUnknownKey(kid);
    if (fetch != null && !(Thread.currentThread() instanceof FastThreadLocalThread)) {
      await(fetch);
    }
    return Optional.ofNullable(keys.get(kid));
  }

  /** Whether the last fetched set still has this key id (no fetch, no wait). */
  public boolean has(String kid) {
    return keys.containsKey(kid);
  }

  private boolean isStale() {
    Instant fetched = fetchedAt;
    return fetched == null
        || Duration.between(fetched, clock.instant()).compareTo(config.refreshInterval()) >= 0;
  }

  private synchronized void fetchInBackground() {
    if (running() || tooSoon(lastFetchStarted)) {
      return;
    }
    start();
  }

  /** The fetch under way, or a new one if the budget for unknown key ids allows; else null. */
  private synchronized CompletableFuture<Void> fetchForUnknownKey(String kid) {
    if (running()) {
      return inFlight;
    }
    if (keys.containsKey(kid)) {
      return CompletableFuture.completedFuture(null); // a fetch ended since the caller looked
    }
    if (tooSoon(lastUnknownKeyFetch)) {
      return null;
    }
    lastUnknownKeyFetch = clock.instant();
    return start();
  }

  private boolean running() {
    return inFlight != null && !inFlight.isDone();
  }

  /** Less than the minimum interval since {@code last}; a clock that went back does not count. */
  private boolean tooSoon(Instant last) {
    if (last == null) {
      return false;
    }
    Duration since = Duration.between(last, clock.instant());
    return !since.isNegative() && since.compareTo(config.minRefreshInterval()) < 0;
  }

  private CompletableFuture<Void> start() {
    lastFetchStarted = clock.instant();
    HttpRequest request =
        HttpRequest.newBuilder(config.url())
            .timeout(config.fetchTimeout())
            .header("Accept", "application/json")
            .GET()
            .build();
    inFlight =
        http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
            .thenAccept(this::accept)
            .orTimeout(config.fetchTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .exceptionally(
                failure -> {
                  Throwable cause =
                      failure.getCause() != null && failure.getCause() != failure
                          ? failure.getCause()
                          : failure;
                  LOG.warn(
                      "JWKS {} not fetched, keeping the {} keys known: {}",
                      config.url(),
                      keys.size(),
                      cause.toString());
                  return null;
                });
    return inFlight;
  }

  private void accept(HttpResponse<InputStream> response) {
    byte[] body;
    try (InputStream in = response.body()) {
      body = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw new IllegalStateException("reading the key set failed: " + e, e);
    }
    if (response.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + response.statusCode());
    }
    if (body.length > MAX_BYTES) {
      throw new IllegalStateException("over " + MAX_BYTES + " bytes");
    }
    JWKSet set;
    try {
      set = JWKSet.parse(new String(body, StandardCharsets.UTF_8));
    } catch (ParseException e) {
      throw new IllegalStateException("not a JSON Web Key Set: " + e.getMessage(), e);
    }
    Map<String, Key> usable = new HashMap<>();
    for (JWK jwk : set.getKeys()) {
      usable(jwk).ifPresent(key -> usable.put(jwk.getKeyID(), key));
    }
    keys = Map.copyOf(usable);
    fetchedAt = clock.instant();
    LOG.info("JWKS {}: keys {}", config.url(), usable.keySet());
  }

  /**
   * The key as a verifier, if it is one we accept: a signing key with an id, RSA of at least 2048
   * bits for RS256 or EC P-256 for ES256, and no {@code alg} of its own that says otherwise.
   */
  private static Optional<Key> usable(JWK jwk) {
    if (jwk.getKeyID() == null
        || (jwk.getKeyUse() != null && jwk.getKeyUse() != KeyUse.SIGNATURE)) {
      return Optional.empty();
    }
    try {
      JWSAlgorithm algorithm;
      JWSVerifier verifier;
      if (jwk instanceof RSAKey rsa && rsa.size() >= MIN_RSA_BITS) {
        algorithm = JWSAlgorithm.RS256;
        verifier = new RSASSAVerifier(rsa.toRSAPublicKey());
      } else if (jwk instanceof ECKey ec && Curve.P_256.equals(ec.getCurve())) {
        algorithm = JWSAlgorithm.ES256;
        verifier = new ECDSAVerifier(ec.toECPublicKey());
      } else {
        LOG.debug("JWKS key {} skipped: not RSA >= 2048 bits or EC P-256", jwk.getKeyID());
        return Optional.empty();
      }
      if (jwk.getAlgorithm() != null && !jwk.getAlgorithm().equals(algorithm)) {
        LOG.debug("JWKS key {} skipped: alg {}", jwk.getKeyID(), jwk.getAlgorithm());
        return Optional.empty();
      }
      return Optional.of(new Key(algorithm, verifier));
    } catch (JOSEException e) {
      LOG.debug("JWKS key {} skipped: {}", jwk.getKeyID(), e.toString());
      return Optional.empty();
    }
  }

  private void await(CompletableFuture<Void> fetch) {
    try {
      fetch.get(config.fetchTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // logged by the fetch; the caller finds the key missing
    }
  }
}
