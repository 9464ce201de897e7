package io.progresshub.core;

import java.time.Duration;
import java.util.Optional;

/**
 * The one unchecked exception of the hub. {@link #kind()} says how a transport should answer it;
 * {@link #code()} is the stable machine-readable code clients switch on.
 */
public class HubException extends RuntimeException {

  /** What went wrong, in terms a transport can map to a status (400, 404, 409, 503...). */
  public enum Kind {
    /** The input is malformed or out of range. */
    INVALID,
    /** The caller did not prove who it is: no token, or a bad or expired one. */
    UNAUTHORIZED,
    /** The caller may not do this. */
    FORBIDDEN,
    /** The job does not exist (or no longer exists). */
    NOT_FOUND,
    /** The request conflicts with the job's state: duplicate id, finished job, bad transition. */
    CONFLICT,
    /** A limit was reached. */
    LIMITED,
    /** The store could not make the change durable. */
    UNAVAILABLE
  }

  private final Kind kind;
  private final String code;
  private final Duration retryAfter;

  public HubException(Kind kind, String code, String message) {
    this(kind, code, message, null, null);
  }

  public HubException(Kind kind, String code, String message, Throwable cause) {
    this(kind, code, message, cause, null);
  }

  /**
   * @param retryAfter how long the caller should wait before trying again (a transport sends it as
   *     {@code Retry-After}), or null when retrying soon would not help
   */
  public HubException(
      Kind kind, String code, String message, Throwable cause, Duration retryAfter) {
    super(message, cause);
    this.kind = kind;
    this.code = code;
    if (retryAfter != null && (retryAfter.isNegative() || retryAfter.isZero())) {
      throw new IllegalArgumentException("retryAfter: " + retryAfter + " (expected: > 0)");
    }
    this.retryAfter = retryAfter;
  }

  public Kind kind() {
    return kind;
  }

  public String code() {
    return code;
  }

  /** When the condition is expected to pass, so that the same call may succeed: a hint. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  public static HubException invalid(String message) {
    return new HubException(Kind.INVALID, "invalid_request", message);
  }

  public static HubException jobNotFound(String jobId) {
    return new HubException(Kind.NOT_FOUND, "job_not_found", "job not found: " + jobId);
  }

  public static HubException jobExists(String jobId) {
    return new HubException(Kind.CONFLICT, "job_exists", "job already exists: " + jobId);
  }

  public static HubException forbidden(String message) {
    return new HubException(Kind.FORBIDDEN, "forbidden", message);
  }

  public static HubException unavailable(String message, Throwable cause) {
    return new HubException(Kind.UNAVAILABLE, "store_unavailable", message, cause);
  }

  /**
   * The store cannot take the write now but is expected to soon (its queue is full, another process
   * holds its lock): the caller should retry after {@code retryAfter}.
   */
  public static HubException unavailable(String message, Throwable cause, Duration retryAfter) {
    return new HubException(Kind.UNAVAILABLE, "store_unavailable", message, cause, retryAfter);
  }

  /** The job's state would grow past its bounds ({@link JobLimits}). */
  public static HubException tooLarge(String message) {
    return new HubException(Kind.LIMITED, "payload_too_large", message);
  }
}
