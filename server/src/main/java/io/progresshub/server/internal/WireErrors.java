package io.progresshub.server.internal;

import io.progresshub.core.HubException;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import java.time.Duration;
import java.util.Optional;

/**
 * The one table from errors to the wire: a hub error's code to its wire {@link ErrorCode}, and a
 * wire code to the WebSocket {@link CloseCode} a connection ends with when the error is fatal to
 * it. Both switches are exhaustive, so a code added to either enum does not compile until it is
 * mapped here. (The HTTP status of each wire code is part of {@link ErrorCode} itself.)
 */
public final class WireErrors {
  private WireErrors() {}

  /** An error as a client sees it: code, text and when to try again. */
  public record WireError(ErrorCode code, String message, Optional<Duration> retryAfter) {}

  public static WireError of(HubException e) {
    return new WireError(errorCode(e.reason()), e.getMessage(), e.retryAfter());
  }

  public static WireError of(ApiException e) {
    return new WireError(e.code(), e.getMessage(), e.retryAfter());
  }

  public static ErrorCode errorCode(HubException.Code code) {
    return switch (code) {
      case INVALID_REQUEST -> ErrorCode.INVALID_REQUEST;
      case INVALID_JSON -> ErrorCode.INVALID_JSON;
      case INVALID_JOB_ID -> ErrorCode.INVALID_JOB_ID;
      case UNAUTHORIZED -> ErrorCode.UNAUTHORIZED;
      case FORBIDDEN -> ErrorCode.FORBIDDEN;
      case JOB_NOT_FOUND -> ErrorCode.JOB_NOT_FOUND;
      case JOB_EXISTS -> ErrorCode.JOB_EXISTS;
      case JOB_FINISHED -> ErrorCode.JOB_FINISHED;
      case JOB_CANCELLED -> ErrorCode.JOB_CANCELLED;
      case INVALID_TRANSITION -> ErrorCode.INVALID_TRANSITION;
      case PAYLOAD_TOO_LARGE -> ErrorCode.PAYLOAD_TOO_LARGE;
      case RATE_LIMITED -> ErrorCode.RATE_LIMITED;
      // Stores answer it to the hub, which retries; reaching a transport would be a bug.
      case STALE_SEQ -> ErrorCode.INTERNAL_ERROR;
      case STORE_UNAVAILABLE -> ErrorCode.STORE_UNAVAILABLE;
    };
  }

  /**
   * The close code for an error that ends a WebSocket: whether the client should reconnect follows
   * from it ({@link CloseCode#reconnect()}), so a passing condition must map to a reconnecting
   * code.
   */
  public static CloseCode closeCode(ErrorCode code) {
    return switch (code) {
      case INVALID_JSON,
          UNKNOWN_TYPE,
          MISSING_FIELD,
          INVALID_REQUEST,
          INVALID_JOB_ID,
          NOT_FOUND,
          CONNECTION_NOT_FOUND,
          METHOD_NOT_ALLOWED,
          UNSUPPORTED_MEDIA_TYPE,
          JOB_EXISTS,
          JOB_FINISHED,
          JOB_CANCELLED,
          INVALID_TRANSITION,
          NOT_SUBSCRIBED,
          PAYLOAD_TOO_LARGE ->
          CloseCode.BAD_REQUEST;
      case UNAUTHORIZED, AUTH_REQUIRED -> CloseCode.UNAUTHORIZED;
      case FORBIDDEN, ORIGIN_NOT_ALLOWED -> CloseCode.FORBIDDEN;
      case JOB_NOT_FOUND -> CloseCode.JOB_NOT_FOUND;
      case TOO_MANY_SUBSCRIPTIONS, TOO_MANY_CONNECTIONS, RATE_LIMITED -> CloseCode.RATE_LIMITED;
      case INTERNAL_ERROR, STORE_UNAVAILABLE -> CloseCode.INTERNAL_ERROR;
      case SHUTTING_DOWN -> CloseCode.GOING_AWAY;
    };
  }
}
