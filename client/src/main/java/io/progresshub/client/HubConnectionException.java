package io.progresshub.client;

import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The server could not be reached (after every retry), or closed the WebSocket with a code after
 * which reconnecting cannot help ({@link CloseCode#reconnect()} false, e.g. 4401 unauthorized).
 */
public final class HubConnectionException extends ProgressHubException {
  private final OptionalInt closeCode;

  HubConnectionException(String message, Throwable cause) {
    super(message, Optional.empty(), cause);
    this.closeCode = OptionalInt.empty();
  }

  HubConnectionException(int closeCode, String reason) {
    super(
        "connection closed with " + closeCode + (reason.isEmpty() ? "" : ": " + reason),
        errorCodeOf(closeCode),
        null);
    this.closeCode = OptionalInt.of(closeCode);
  }

  /** The WebSocket close code, when the server closed the connection. */
  public OptionalInt closeCode() {
    return closeCode;
  }

  private static Optional<ErrorCode> errorCodeOf(int closeCode) {
    switch (closeCode) {
      case 4401:
        return Optional.of(ErrorCode.UNAUTHORIZED);
      case 4403:
        return Optional.of(ErrorCode.FORBIDDEN);
      case 4404:
        return Optional.of(ErrorCode.JOB_NOT_FOUND);
      case 4429:
        return Optional.of(ErrorCode.RATE_LIMITED);
      default:
        return Optional.empty();
    }
  }
}
