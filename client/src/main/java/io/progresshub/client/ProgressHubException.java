package io.progresshub.client;

import io.progresshub.protocol.ErrorCode;
import java.util.Optional;

/**
 * Anything the client could not do. {@link HubApiException} when the server answered with an error,
 * {@link HubConnectionException} when it could not be reached or closed the connection for good.
 */
public class ProgressHubException extends RuntimeException {
  private final Optional<ErrorCode> code;

  ProgressHubException(String message, Optional<ErrorCode> code, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The server's error code, when it gave one. */
  public Optional<ErrorCode> code() {
    return code;
  }
}
