package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwksConfig;
import io.progresshub.server.auth.JwtTokens;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RS256 and ES256 tokens verified with keys from a JWKS served by a real HTTP server, beside HS256;
 * issuer, audience and {@code nbf} checks; algorithm confusion.
 */
class JwksTokensTest {
  private static final String ISSUER = "https://id.example.com/";
  private static final String AUDIENCE = "progress-hub";
  private static final RSAKey RSA_1 = rsa("rsa-1");
  private static final RSAKey RSA_2 = rsa("rsa-2");
  private static final ECKey EC_1 = ec("ec-1");

  private final AtomicReference<String> served = new AtomicReference<>();
  private final AtomicInteger fetches = new AtomicInteger();
  private final AtomicInteger fetchDelayMillis = new AtomicInteger();
  private HttpServer jwks;
  private TestServer server;

  @BeforeEach
  void serveKeys() throws IOException {
    publish(RSA_1, EC_1);
    jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    jwks.createContext(
        "/.well-known/jwks.json",
        exchange -> {
          fetches.incrementAndGet();
          try {
            Thread.sleep(fetchDelayMillis.get()); // a slow identity provider
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] body = served.get().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    jwks.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    jwks.stop(0);
  }

  private void publish(JWK... keys) {
    served.set(new JWKSet(List.of(keys)).toPublicJWKSet().toString());
  }

  private AuthConfig auth() {
    URI url =
        URI.create("http://127.0.0.1:" + jwks.getAddress().getPort() + "/.well-known/jwks.json");
    return AuthConfig.hs256(TestServer.SECRET)
        .withJwks(new JwksConfig(url))
        .withIssuer(Optional.of(ISSUER))
        .withAudience(Optional.of(AUDIENCE));
  }

  private void start(AuthConfig auth) {
    server =
        TestServer.start(
            config ->
                new ServerConfig(
                    config.network(),
                    auth,
                    config.limits(),
                    config.addresses(),
                    config.webSocket(),
                    config.metrics(),
                    config.accessLog()));
  }

  private int status(String token) {
    return server.send("GET", "/api/jobs", token, null).statusCode();
  }

  /** A token for alice, as the identity provider would sign it, changed by {@code claims}. */
  private static String token(
      JWSAlgorithm algorithm,
      String kid,
      JWSSigner signer,
      UnaryOperator<JWTClaimsSet.Builder> claims) {
    Instant now = Instant.now();
    JWTClaimsSet.Builder builder =
        new JWTClaimsSet.Builder()
            .subject("alice")
            .claim("role", "subscriber")
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
    try {
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader.Builder(algorithm).keyID(kid).build(), claims.apply(builder).build());
      jwt.sign(signer);
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rs256(RSAKey key, UnaryOperator<JWTClaimsSet.Builder> claims) {
    try {
      return token(JWSAlgorithm.RS256, key.getKeyID(), new RSASSASigner(key), claims);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rs256(RSAKey key) {
    return rs256(key, claims -> claims);
  }

  private static String es256(ECKey key) {
    try {
      return token(JWSAlgorithm.ES256, key.getKeyID(), new ECDSASigner(key), claims -> claims);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** HS256 with {@code key} as the HMAC key, naming {@code kid}. */
  private static String hs256(byte[] key, String kid) {
    try {
      return token(JWSAlgorithm.HS256, kid, new MACSigner(key), claims -> claims);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void rs256AndEs256TokensSignedByJwksKeysAreAcceptedBesideHs256OnRestWebSocketAndSse() {
    start(auth());
    String rs = rs256(RSA_1);
    String es = es256(EC_1);
    String hs =
        new JwtTokens(auth(), Clock.systemUTC())
            .issue("alice", Role.SUBSCRIBER, List.of(), Duration.ofMinutes(5));

    assertThat(status(rs)).isEqualTo(200);
    assertThat(status(es)).isEqualTo(200);
    assertThat(status(hs)).isEqualTo(200);
    try (WsClient client = server.connect("/ws?token=" + es)) {
      assertThat(client.next("connection_established").path("connection_id").asText()).isNotEmpty();
      client.assertOpen();
    }
    String job = "jwks-" + System.nanoTime();
    server.hub.create(io.progresshub.core.NewJob.builder().id(job).owner("alice").build());
    try (SseClient sse =
        SseClient.open(server.port(), "/api/jobs/" + job + "/stream?token=" + rs, Map.of())) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.next().seq()).isEqualTo(1);
    }
  }

  @Test
  void aTokenWithANewKeyIdFetchesTheKeySetOnceAndIsAccepted() {
    start(auth());
    assertThat(status(rs256(RSA_1))).isEqualTo(200);
    int before = fetches.get();

    publish(RSA_1, RSA_2, EC_1); // the identity provider adds a key and signs with it at once
    assertThat(status(rs256(RSA_2))).isEqualTo(200);
    assertThat(status(rs256(RSA_2))).isEqualTo(200);

    assertThat(fetches.get()).isEqualTo(before + 1);
  }

  @Test
  void aWebSocketWithANewKeyIdIsRefusedAtOnceRatherThanStallingItsEventLoopAndItsRetryIsAccepted() {
    start(auth());
    assertThat(status(rs256(RSA_1))).isEqualTo(200);
    publish(RSA_1, RSA_2, EC_1);
    fetchDelayMillis.set(2_000);
    String token = rs256(RSA_2);
    long started = System.nanoTime();
    try (WsClient refused = server.connect("/ws?token=" + token)) {
      assertThat(refused.awaitClose()).isEqualTo(4401);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the handshake did not wait for the slow key set")
        .isLessThan(Duration.ofMillis(1_500));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions() // a retry before the key set arrived is refused too
        .untilAsserted(
            () -> {
              try (WsClient retry = server.connect("/ws?token=" + token)) {
                retry.next("connection_established");
                retry.assertOpen();
              }
            });
  }

  @Test
  void tokensWithMadeUpKeyIdsFetchTheKeySetAtMostOncePerInterval() {
    start(auth());
    assertThat(status(rs256(RSA_1))).isEqualTo(200);
    int before = fetches.get();

    for (int i = 0; i < 30; i++) {
      RSAKey attacker = RSA_2; // a real key, but under a kid the set does not have
      String token =
          rs256(new RSAKey.Builder(attacker).keyID(UUID.randomUUID().toString()).build());
      assertThat(status(token)).isEqualTo(401);
    }

    assertThat(fetches.get()).isEqualTo(before + 1);
    assertThat(status(rs256(RSA_1))).as("known keys still work").isEqualTo(200);
  }

  @Test
  void aKeyWithdrawnFromTheSetStopsVerifyingItsTokensEvenRememberedOnes() {
    start(auth());
    String old = rs256(RSA_1);
    assertThat(status(old)).isEqualTo(200);

    publish(RSA_2); // rotated: rsa-1 is gone
    assertThat(status(rs256(RSA_2))).isEqualTo(200);

    assertThat(status(old)).isEqualTo(401);
  }

  @Test
  void aWrongOrMissingIssuerOrAudienceIsUnauthorized() {
    start(auth());

    assertThat(status(rs256(RSA_1, c -> c.issuer("https://evil.example.com/")))).isEqualTo(401);
    assertThat(status(rs256(RSA_1, c -> c.issuer(null)))).isEqualTo(401);
    assertThat(status(rs256(RSA_1, c -> c.audience("another-service")))).isEqualTo(401);
    assertThat(status(rs256(RSA_1, c -> c.audience(List.of())))).isEqualTo(401);
    assertThat(status(rs256(RSA_1, c -> c.audience(List.of("another-service", AUDIENCE)))))
        .isEqualTo(200);
  }

  @Test
  void aTokenWhoseNotBeforeIsInTheFutureIsUnauthorized() {
    start(auth());
    Instant later = Instant.now().plus(Duration.ofMinutes(2)); // well past the clock skew

    assertThat(status(rs256(RSA_1, c -> c.notBeforeTime(Date.from(later))))).isEqualTo(401);
    assertThat(status(rs256(RSA_1, c -> c.notBeforeTime(Date.from(Instant.now()))))).isEqualTo(200);
  }

  @Test
  void hs256SignedWithTheRsaPublicKeyIsRefusedWithOrWithoutAnHmacSecret() throws Exception {
    byte[] der = RSA_1.toRSAPublicKey().getEncoded();
    String pem =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der)
            + "\n-----END PUBLIC KEY-----\n";
    List<String> confused =
        List.of(
            hs256(der, "rsa-1"),
            hs256(pem.getBytes(StandardCharsets.US_ASCII), "rsa-1"),
            hs256(RSA_1.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8), "rsa-1"));

    start(auth());
    for (String token : confused) {
      assertThat(status(token)).isEqualTo(401);
    }
    server.close();

    start(auth().withoutHmacSecret());
    for (String token : confused) {
      assertThat(status(token)).isEqualTo(401);
    }
    assertThat(status(rs256(RSA_1))).isEqualTo(200);
  }

  @Test
  void anAlgorithmThatDoesNotMatchItsKeyIsRefused() throws Exception {
    start(auth());
    // ES256 in the header, the RSA key's kid: the key decides the algorithm, not the header.
    String es256UnderRsaKid =
        token(JWSAlgorithm.ES256, "rsa-1", new ECDSASigner(EC_1), claims -> claims);
    String rs384 = token(JWSAlgorithm.RS384, "rsa-1", new RSASSASigner(RSA_1), claims -> claims);

    assertThat(status(es256UnderRsaKid)).isEqualTo(401);
    assertThat(status(rs384)).isEqualTo(401);
  }

  private static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ECKey ec(String kid) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
