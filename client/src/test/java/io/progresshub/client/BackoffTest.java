package io.progresshub.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void theDefaultCapDoublesFromHalfASecondToTwentySeconds() {
    assertThat(Backoff.DEFAULT.cap(0)).isEqualTo(Duration.ofMillis(500));
    assertThat(Backoff.DEFAULT.cap(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Backoff.DEFAULT.cap(5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(Backoff.DEFAULT.cap(6)).isEqualTo(Duration.ofSeconds(20));
    assertThat(Backoff.DEFAULT.cap(1000)).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void everyDelayLiesBetweenZeroAndItsCap() {
    for (int attempt = 0; attempt < 10; attempt++) {
      for (int i = 0; i < 100; i++) {
        assertThat(Backoff.DEFAULT.delay(attempt))
            .isBetween(Duration.ZERO, Backoff.DEFAULT.cap(attempt));
      }
    }
  }

  @Test
  void aMaxBelowTheInitialDelayIsRefusedWithBothValues() {
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT1S")
        .hasMessageContaining("PT2S");
  }
}
