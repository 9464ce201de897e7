package io.progresshub.server;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
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
 * Issues and verifies HS256 bearer tokens. The algorithm is pinned here, never read from the token:
 * a token signed with anything else, or with {@code alg: none}, is refused. {@code exp} is required
 * and enforced.
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
  static final int MAX_VERIFIED = 10_000;

  private final Map<String, Verified> verified = new ConcurrentHashMap<>();
  private final byte[] secret;
  private final Optional<String> issuer;
  private final Clock clock;
  private final MACVerifier verifier;

  public JwtTokens(byte[] secret, Optional<String> issuer, Clock clock) {
    if (secret.length < AuthConfig.MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "JWT secret: "
              + secret.length
              + " bytes (expected: >= "
              + AuthConfig.MIN_SECRET_BYTES
              + ")");
    }
    this.secret = secret.clone();
    this.issuer = issuer;
    this.clock = clock;
    try {
      this.verifier = new MACVerifier(this.secret);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("unusable JWT secret", e);
    }
  }

  public static JwtTokens of(AuthConfig auth) {
    return new JwtTokens(auth.hmacSecret().orElseThrow(), auth.issuer(), Clock.systemUTC());
  }

  /** A signed token for {@code subject} with {@code role}, valid for {@code ttl}. */
  public String issue(String subject, Role role, Collection<String> jobs, Duration ttl) {
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
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  /**
   * The caller a token stands for. A token verified before is only checked for expiry again: the
   * signature and claims of the same string cannot have changed, and clients present the same token
   * on every request and reconnect.
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
      return seen.principal();
    }
    Verified fresh = verifyFully(token);
    if (verified.size() >= MAX_VERIFIED) {
      verified.clear(); // bounded; the busy tokens come back at once
    }
    verified.put(token, fresh);
    return fresh.principal();
  }

  /** When {@code token} expires: from the verified tokens if it is one, else read from it. */
  public Optional<Instant> expiryOf(String token) {
    Verified seen = verified.get(token);
    return seen != null ? Optional.of(seen.expiry()) : expiry(token);
  }

  private Verified verifyFully(String token) {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException | RuntimeException e) {
      throw unauthorized("malformed token");
    }
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      throw unauthorized("token algorithm must be HS256");
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
    return new Verified(new Principal(subject, role, jobs), exp.toInstant());
  }

  private record Verified(Principal principal, Instant expiry) {}

  /** When this token expires, for refresh bookkeeping; empty if it cannot be read. */
  public static Optional<Instant> expiry(String token) {
    try {
      Date exp = SignedJWT.parse(token).getJWTClaimsSet().getExpirationTime();
      return Optional.ofNullable(exp).map(Date::toInstant);
    } catch (ParseException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static HubException unauthorized(String message) {
    return new HubException(HubException.Kind.UNAUTHORIZED, "unauthorized", message);
  }
}
