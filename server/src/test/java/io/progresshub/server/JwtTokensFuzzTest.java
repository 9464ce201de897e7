package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.server.auth.JwtTokens;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Fuzzes bearer-token verification, the first check on every REST call, upgrade and SSE stream.
 * Whatever the string, {@link JwtTokens#verify} either returns a caller or throws {@link
 * HubException} {@code unauthorized}; it never accepts a token whose signature is not this key's
 * HMAC-SHA256 of its signing input (checked here with the JDK's own HMAC, not the library's), nor
 * one without {@code alg: HS256}, an unexpired {@code exp} and a {@code sub}; and asking twice (the
 * second time from its cache) gives the same answer.
 *
 * <p>Inputs: the token's UTF-8 bytes. The seeds are signed with {@link #KEY} and expire an hour
 * after {@link #NOW}, the fixed clock the verifier runs on. The normal build runs the inputs under
 * {@code JwtTokensFuzzTestInputs/}; docs/fuzzing.md says how to fuzz for longer.
 */
class JwtTokensFuzzTest {
  static final byte[] KEY =
      "fuzz-secret-fuzz-secret-fuzz-secret!!".getBytes(StandardCharsets.US_ASCII);
  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final long SKEW_SECONDS = 30;
  private static final ObjectMapper JSON = new ObjectMapper();

  @FuzzTest
  void verifyAcceptsOnlyTokensSignedWithTheKey(byte[] input) throws Exception {
    String token = new String(input, StandardCharsets.UTF_8);
    // A fresh verifier per input: nothing remembered from an earlier input decides this one.
    JwtTokens tokens = new JwtTokens(KEY, Optional.empty(), Clock.fixed(NOW, ZoneOffset.UTC));
    Optional<Principal> first = verify(tokens, token);
    Optional<Principal> again = verify(tokens, token);
    assertThat(again).as("the same token verified a second time").isEqualTo(first);
    if (first.isPresent()) {
      checkSignedWithTheKey(token, first.get());
    }
  }

  private static Optional<Principal> verify(JwtTokens tokens, String token) {
    try {
      Principal principal = tokens.verify(token);
      assertThat(principal).isNotNull();
      return Optional.of(principal);
    } catch (HubException e) {
      assertThat(e.kind()).as("kind of %s", e).isEqualTo(HubException.Kind.UNAUTHORIZED);
      assertThat(e.code()).isEqualTo("unauthorized");
      return Optional.empty();
    }
  }

  /** The oracle for an accepted token, independent of the JWT library where it matters. */
  private static void checkSignedWithTheKey(String token, Principal principal) throws Exception {
    // The library trims whitespace around a token (String.trim): the same signed token.
    String[] parts = token.trim().split("\\.", -1);
    assertThat(parts).as("an accepted token has three parts").hasSize(3);
    JsonNode header = JSON.readTree(Base64.getUrlDecoder().decode(parts[0]));
    assertThat(header.path("alg").asText()).as("alg of an accepted token").isEqualTo("HS256");

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
    byte[] expected = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    // The signature bytes the library compared: its base64url decoding may be more lenient than
    // the JDK's, but the bytes must be this key's MAC of exactly this signing input.
    byte[] signature = SignedJWT.parse(token.trim()).getSignature().decode();
    assertThat(MessageDigest.isEqual(signature, expected))
        .as("an accepted token carries this key's signature")
        .isTrue();

    JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    assertThat(claims.path("exp").isNumber()).as("accepted token has a numeric exp").isTrue();
    assertThat(claims.path("exp").asLong() + SKEW_SECONDS)
        .as("exp of an accepted token")
        .isGreaterThanOrEqualTo(NOW.getEpochSecond());
    assertThat(principal.subject()).isEqualTo(claims.path("sub").asText()).isNotBlank();
  }
}
