package io.progresshub.protocol;

import java.util.Locale;
import java.util.Optional;

/**
 * Machine-readable error codes, shared by WebSocket {@code error} messages, SSE and REST error
 * bodies ({@code {"error": "...", "code": "..."}}), with the HTTP status REST answers them with.
 */
public enum ErrorCode {
  INVALID_JSON(400),
  UNKNOWN_TYPE(400),
  MISSING_FIELD(400),
  INVALID_REQUEST(400),
  INVALID_JOB_ID(400),
  UNAUTHORIZED(401),
  AUTH_REQUIRED(401),
  FORBIDDEN(403),
  ORIGIN_NOT_ALLOWED(403),
  JOB_NOT_FOUND(404),
  NOT_FOUND(404),
  CONNECTION_NOT_FOUND(404),
  METHOD_NOT_ALLOWED(405),
  JOB_EXISTS(409),
  JOB_FINISHED(409),
  JOB_CANCELLED(409),
  INVALID_TRANSITION(409),
  NOT_SUBSCRIBED(409),
  PAYLOAD_TOO_LARGE(413),
  UNSUPPORTED_MEDIA_TYPE(415),
  TOO_MANY_SUBSCRIPTIONS(429),
  TOO_MANY_CONNECTIONS(429),
  RATE_LIMITED(429),
  INTERNAL_ERROR(500),
  STORE_UNAVAILABLE(503),
  SHUTTING_DOWN(503);

  private final int httpStatus;
  private final String wireName;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
    this.wireName = name().toLowerCase(Locale.ROOT);
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The code as it appears on the wire, e.g. {@code job_not_found}. */
  public String wireName() {
    return wireName;
  }

  public static Optional<ErrorCode> fromWireName(String name) {
    for (ErrorCode code : values()) {
      if (code.wireName.equals(name)) {
        return Optional.of(code);
      }
    }
    return Optional.empty();
  }
}
