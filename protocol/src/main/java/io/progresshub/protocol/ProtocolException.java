package io.progresshub.protocol;

import java.util.Optional;

/** A client message that cannot be served; answered with an {@code error} message. */
public final class ProtocolException extends RuntimeException {
  private final ErrorCode code;
  private final Optional<String> requestId;

  public ProtocolException(ErrorCode code, String message, Optional<String> requestId) {
    super(message);
    this.code = code;
    this.requestId = requestId;
  }

  public ErrorCode code() {
    return code;
  }

  /** The {@code id} the client gave the command, echoed in the error. */
  public Optional<String> requestId() {
    return requestId;
  }
}
