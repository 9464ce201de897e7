package io.progresshub.client;

import io.progresshub.protocol.ErrorCode;
import java.util.Optional;

/**
 * The server refused a request: a REST error answer ({@code {"error", "code"}}) or a WebSocket
 * {@code error} message about a job.
 */
public final class HubApiException extends ProgressHubException {
  private final int httpStatus;

  HubApiException(int httpStatus, ErrorCode code, String message) {
    super(message + " (" + code.wireName() + ")", Optional.of(code), null);
    this.httpStatus = httpStatus;
  }

  /** The HTTP status of the answer; for a WebSocket error, the status REST gives the code. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The server's error code. */
  public ErrorCode errorCode() {
    return code().orElseThrow();
  }
}
