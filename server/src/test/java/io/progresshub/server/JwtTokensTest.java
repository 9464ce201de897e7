package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.core.HubException;
import io.progresshub.core.MutableClock;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Tokens verified once are remembered, but never past their expiry. */
class JwtTokensTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  private final JwtTokens tokens = new JwtTokens(TestServer.SECRET, Optional.empty(), clock);

  @Test
  void aRememberedTokenIsRefusedOnceItHasExpired() {
    String token = tokens.issue("alice", Role.SUBSCRIBER, List.of("job-1"), Duration.ofMinutes(10));
    Principal first = tokens.verify(token);
    assertThat(tokens.verify(token)).isSameAs(first); // the second time comes from memory
    assertThat(tokens.verifiedExpiry(token)).contains(Instant.parse("2026-03-01T10:10:00Z"));

    clock.advance(Duration.ofMinutes(11)); // past exp and the 30 s of allowed clock skew

    assertThatThrownBy(() -> tokens.verify(token))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("expired");
    assertThatThrownBy(() -> tokens.verify(token)).hasMessageContaining("expired");
  }

  @Test
  void aTamperedCopyOfARememberedTokenIsStillCheckedInFull() {
    String token = tokens.issue("alice", Role.SUBSCRIBER, List.of(), Duration.ofMinutes(10));
    tokens.verify(token);
    String[] parts = token.split("\\.");
    String forged =
        parts[0]
            + "."
            + parts[1]
            + "."
            + (parts[2].charAt(0) == 'A' ? 'B' : 'A')
            + parts[2].substring(1);

    assertThatThrownBy(() -> tokens.verify(forged)).hasMessageContaining("signature");
  }
}
