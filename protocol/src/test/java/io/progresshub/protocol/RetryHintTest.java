package io.progresshub.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RetryHintTest {

  @Test
  void theShutdownReasonCarriesTheDelayAndReadsBack() {
    String reason = RetryHint.shutdownReason(2140);

    assertThat(reason).isEqualTo("server shutting down; retry_after_ms=2140");
    assertThat(RetryHint.retryAfterMillis(reason)).hasValue(2140);
  }

  @Test
  void aReasonWithoutAHintHasNone() {
    assertThat(RetryHint.retryAfterMillis("idle timeout: no traffic for 62 s")).isEmpty();
    assertThat(RetryHint.retryAfterMillis("server shutting down")).isEmpty();
    assertThat(RetryHint.retryAfterMillis("x_retry_after_ms=5")).isEmpty();
    assertThat(RetryHint.retryAfterMillis("retry_after_ms=9999999999")).isEmpty();
    assertThat(RetryHint.retryAfterMillis(null)).isEmpty();
  }

  @Test
  void aNegativeDelayIsRefused() {
    assertThatThrownBy(() -> RetryHint.shutdownReason(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("millis: -1 (expected: >= 0)");
  }
}
