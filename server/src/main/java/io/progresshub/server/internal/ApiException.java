package io.progresshub.server.internal;

import io.progresshub.protocol.ErrorCode;
import java.time.Duration;
import java.util.Optional;

/**
 * An error of the transport itself, not of the hub: no such endpoint, wrong method or media type, a
 * connection or rate refusal. Hub errors stay {@link io.progresshub.core.HubException}s; {@link
 * WireErrors} turns both into what goes on the wire.
 */
public final class ApiException extends RuntimeException {
  private final ErrorCode code;
  private final Duration retryAfter;

  public ApiException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /**
   * @param retryAfter when trying again may succeed (sent as {@code Retry-After}), or null
   */
  public ApiException(ErrorCode code, String message, Duration retryAfter) {
    super(message, null, false, false);
    this.code = code;
    this.retryAfter = retryAfter;
  }

  public ErrorCode code() {
    return code;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
