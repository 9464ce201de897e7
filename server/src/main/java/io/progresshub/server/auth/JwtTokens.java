package io.progresshub.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Issues HS256 tokens and verifies HS256, RS256 and ES256 ones. Which algorithms are accepted
 * follows from the configuration, never from the token: HS256 with the HMAC secret if there is one,
 * RS256 and ES256 with the key a JWKS gives for the token's {@code kid} (each key verifies only the
 * algorithm of its type). {@code alg: none}, any other algorithm, and an algorithm that does not
 * match its key are refused. {@code exp} is required; {@code exp} and {@code nbf} are checked with
 * {@link #CLOCK_SKEW}; {@code iss} and {@code aud} when configured.
 *
 * <p>Claims: {@code sub} (user), {@code role} ({@code subscriber} by default, {@code publisher},
 * {@code admin}), optional {@code jobs} (ids a subscriber may watch besides its own).
 */
public final class JwtTokens {

  /**
   * Tolerated clock difference between the issuer and this server, for {@code exp} and {@code nbf},
   * on every transport (see {@link Authenticator#expiry}).
   */
  public static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  /** At most this many verified tokens are remembered. */
  public static final int MAX_VERIFIED = 10_000;

  private final Map<String, Verified> verified = new ConcurrentHashMap<>();
  private final byte[] secret; // null: HS256 is not accepted
  private final MACVerifier hmac; // null with secret
  private final JwksKeys jwks; // null: RS256 and ES256 are not accepted
  private final Optional<String> issuer;
  private final Optional<String> audience;
  private final Clock clock;

  /** HS256 only. */
  public JwtTokens(byte[] secret, Optional<String> issuer, Clock clock) {
    this(AuthConfig.hs256(secret).withIssuer(issuer), clock);
  }

  public JwtTokens(AuthConfig auth, Clock clock) {
    this.secret = auth.hmacSecret().map(byte[]::clone).orElse(null);
    try {
      this.hmac = secret == null ? null : new MACVerifier(secret);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("unusable JWT secret", e);
    }
    this.jwks = auth.jwks().map(config -> new JwksKeys(config, clock)).orElse(null);
    this.issuer = auth.issuer();
    this.audience = auth.audience();
    this.clock = clock;
  }

  public static JwtTokens of(AuthConfig auth) {
    return new JwtTokens(auth, Clock.systemUTC());
  }

  /**
   * A token signed with the HMAC secret for {@code subject} with {@code role}, valid for {@code
   * ttl}, with the configured issuer and audience.
   *
   * @throws IllegalStateException if there is no HMAC secret (tokens come from the JWKS's issuer)
   */
  public String issue(String subject, Role role, Collection<String> jobs, Duration ttl) {
    if (secret == null) {
      throw new IllegalStateException("no HS256 secret: tokens come from the JWKS's issuer");
    }
    Instant now = clock.instant();
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .subject(subject)
            .claim("role", role.wireName())
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(ttl)));
    if (!jobs.isEmpty()) {
      claims.claim("jobs", List.copyOf(jobs));
    }
    issuer.ifPresent(claims::issuer);
    audience.ifPresent(claims::audience);
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  /**
   * The caller a token stands for. A token verified before is only checked for expiry again, and,
   * if a JWKS key signed it, for that key still being in the set: the signature and claims of the
   * same string cannot have changed, and clients present the same token on every request and
   * reconnect.
   *
   * @throws HubException kind UNAUTHORIZED, code {@code unauthorized}
   */
  public Principal verify(String token) {
    Verified seen = verified.get(token);
    if (seen != null) {
      if (seen.expiry().plus(CLOCK_SKEW).isBefore(clock.instant())) {
        verified.remove(token);
        throw unauthorized("token expired");
      }
      if (seen.kid() == null || jwks.has(seen.kid())) {
        return seen.principal();
      }
      verified.remove(token); // its key was withdrawn: check it again in full, which refuses it
    }
    Verified fresh = verifyFully(token);
    if (verified.size() >= MAX_VERIFIED) {
      verified.clear(); // bounded; the busy tokens come back at once
    }
    verified.put(token, fresh);
    return fresh.principal();
  }

  /**
   * When {@code token} expires, as verified: from the verified tokens if it is one (else read from
   * it unverified; call after {@link #verify}).
   */
  public Optional<Instant> verifiedExpiry(String token) {
    Verified seen = verified.get(token);
    return seen != null ? Optional.of(seen.expiry()) : unverifiedExpiry(token);
  }

  private Verified verifyFully(String token) {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException | RuntimeException e) {
      throw unauthorized("malformed token");
    }
    String kid = jwt.getHeader().getKeyID();
    JWSVerifier verifier = verifierFor(jwt.getHeader().getAlgorithm(), kid);
    if (verifier instanceof MACVerifier) {
      kid = null; // the key is the secret, whatever the header names
    }
    try {
      if (!jwt.verify(verifier)) {
        throw unauthorized("bad token signature");
      }
    } catch (JOSEException e) {
      throw unauthorized("bad token signature");
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw unauthorized("malformed token claims");
    }
    Instant now = clock.instant();
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      throw unauthorized("token has no exp");
    }
    if (exp.toInstant().plus(CLOCK_SKEW).isBefore(now)) {
      throw unauthorized("token expired");
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && nbf.toInstant().minus(CLOCK_SKEW).isAfter(now)) {
      throw unauthorized("token not valid yet");
    }
    if (issuer.isPresent() && !issuer.get().equals(claims.getIssuer())) {
      throw unauthorized("token issuer not accepted");
    }
    if (audience.isPresent()
        && (claims.getAudience() == null || !claims.getAudience().contains(audience.get()))) {
      throw unauthorized("token audience not accepted");
    }
    String subject = claims.getSubject();
    if (subject == null || subject.isBlank()) {
      throw unauthorized("token has no sub");
    }
    Role role = Role.SUBSCRIBER;
    Object roleClaim = claims.getClaim("role");
    if (roleClaim != null) {
      role =
          Role.fromWireName(roleClaim.toString())
              .orElseThrow(() -> unauthorized("unknown role: " + roleClaim));
    }
    Set<String> jobs = new HashSet<>();
    Object jobsClaim = claims.getClaim("jobs");
    if (jobsClaim instanceof Collection<?> list) {
      for (Object id : list) {
        jobs.add(String.valueOf(id));
      }
    } else if (jobsClaim != null) {
      throw unauthorized("jobs claim must be a list of job ids");
    }
    return new Verified(new Principal(subject, role, jobs), exp.toInstant(), kid);
  }

  /**
   * The verifier for a token whose header says {@code algorithm} and {@code kid}, chosen by the
   * configuration: the secret for HS256, the JWKS key for RS256 and ES256 when the key is of that
   * algorithm. Anything else is refused before any signature is checked.
   */
  private JWSVerifier verifierFor(JWSAlgorithm algorithm, String kid) {
    if (JWSAlgorithm.HS256.equals(algorithm) && hmac != null) {
      return hmac;
    }
    boolean asymmetric =
        JWSAlgorithm.RS256.equals(algorithm) || JWSAlgorithm.ES256.equals(algorithm);
    if (!asymmetric || jwks == null) {
      throw unauthorized("token algorithm must be " + accepted());
    }
    if (kid == null) {
      throw unauthorized("token has no kid");
    }
    JwksKeys.Key key = jwks.key(kid).orElseThrow(() -> unauthorized("unknown token key id"));
    if (!key.algorithm().equals(algorithm)) {
      throw unauthorized("token algorithm does not match its key");
    }
    return key.verifier();
  }

  private String accepted() {
    return (hmac != null ? "HS256" : "")
        + (hmac != null && jwks != null ? ", " : "")
        + (jwks != null ? "RS256 or ES256" : "");
  }

  /** {@code kid}: the JWKS key that verified it, null for HS256. */
  private record Verified(Principal principal, Instant expiry, String kid) {}

  /**
   * When this token says it expires, read without checking its signature: for a client's refresh
   * bookkeeping, never for a decision; empty if it cannot be read.
   */
  public static Optional<Instant> unverifiedExpiry(String token) {
    try {
      Date exp = SignedJWT.parse(token).getJWTClaimsSet().getExpirationTime();
      return Optional.ofNullable(exp).map(Date::toInstant);
    } catch (ParseException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static HubException unauthorized(String message) {
    return HubException.unauthorized(message);
  }
}
