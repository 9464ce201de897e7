package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One clock skew for every transport: a token is accepted for as long by REST as by WebSocket. */
class TokenLifetimeTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  /** A token whose {@code exp} passed {@code ago}: signed by a clock that runs that far behind. */
  private static String expiredFor(Duration ago) {
    Duration ttl = Duration.ofMinutes(5);
    JwtTokens late =
        new JwtTokens(
            TestServer.SECRET,
            Optional.empty(),
            Clock.offset(Clock.systemUTC(), ttl.plus(ago).negated()));
    return late.issue("alice", Role.SUBSCRIBER, List.of(), ttl);
  }

  @Test
  void aTokenJustPastItsExpiryWithinTheSkewKeepsAWebSocketOpenAsLongAsRestAcceptsIt() {
    // exp was 25 s ago: inside the 30 s skew for 5 s more.
    String token = expiredFor(JwtTokens.CLOCK_SKEW.minusSeconds(5));
    assertThat(server.send("GET", "/api/jobs", token, null).statusCode()).isEqualTo(200);

    try (WsClient client = server.connect("/ws?token=" + token)) {
      client.next("connection_established");
      long opened = System.nanoTime();
      client.assertQuiet(Duration.ofMillis(1500)); // the old session closed it at once
      client.assertOpen();

      assertThat(client.next("error").path("error").asText()).contains("expired");
      assertThat(client.awaitClose()).isEqualTo(4401);
      assertThat(Duration.ofNanos(System.nanoTime() - opened))
          .isBetween(Duration.ofMillis(1500), Duration.ofSeconds(12));
    }
    assertThat(server.send("GET", "/api/jobs", token, null).statusCode()).isEqualTo(401);
  }
}
