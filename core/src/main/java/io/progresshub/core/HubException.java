package io.progresshub.core;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The one unchecked exception of the hub. {@link #reason()} is the machine-readable cause from one
 * closed table; its {@link Code#kind() kind} says how a transport should answer it, and {@link
 * #code()} is the stable name clients switch on.
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

  /**
   * Every error the hub itself raises. A transport maps each to its wire code in one exhaustive
   * switch, so a code added here does not compile until it is mapped.
   */
  public enum Code {
    INVALID_REQUEST(Kind.INVALID),
    INVALID_JSON(Kind.INVALID),
    INVALID_JOB_ID(Kind.INVALID),
    UNAUTHORIZED(Kind.UNAUTHORIZED),
    FORBIDDEN(Kind.FORBIDDEN),
    JOB_NOT_FOUND(Kind.NOT_FOUND),
    JOB_EXISTS(Kind.CONFLICT),
    JOB_FINISHED(Kind.CONFLICT),
    JOB_CANCELLED(Kind.CONFLICT),
    INVALID_TRANSITION(Kind.CONFLICT),
    PAYLOAD_TOO_LARGE(Kind.LIMITED),
    RATE_LIMITED(Kind.LIMITED),
    /**
     * A store refused an event because another writer changed the job first: its {@code seq} is
     * taken, or the state it was built on is not the stored one. The hub reloads the job and
     * applies the event again, so no caller of the hub ever gets this code.
     */
    STALE_SEQ(Kind.CONFLICT),
    STORE_UNAVAILABLE(Kind.UNAVAILABLE);

    private final Kind kind;
    private final String wireName;

    Code(Kind kind) {
      this.kind = kind;
      this.wireName = name().toLowerCase(Locale.ROOT);
    }

    public Kind kind() {
      return kind;
    }

    /** The code's stable name, e.g. {@code job_not_found}. */
    public String wireName() {
      return wireName;
    }
  }

  private final Code reason;
  private final Duration retryAfter;

  public HubException(Code reason, String message) {
    this(reason, message, null, null);
  }

  public HubException(Code reason, String message, Throwable cause) {
    this(reason, message, cause, null);
  }

  /**
   * @param retryAfter how long the caller should wait before trying again (a transport sends it as
   *     {@code Retry-After}), or null when retrying soon would not help
   */
  public HubException(Code reason, String message, Throwable cause, Duration retryAfter) {
    super(message, cause);
    this.reason = reason;
    if (retryAfter != null && (retryAfter.isNegative() || retryAfter.isZero())) {
      throw new IllegalArgumentException("retryAfter: " + retryAfter + " (expected: > 0)");
    }
    this.retryAfter = retryAfter;
  }

  /** Why it failed, from the closed table of hub errors. */
  public Code reason() {
    return reason;
  }

  public Kind kind() {
    return reason.kind();
  }

  /** The stable name of {@link #reason()}, e.g. {@code job_not_found}. */
  public String code() {
    return reason.wireName();
  }

  /** When the condition is expected to pass, so that the same call may succeed: a hint. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  public static HubException invalid(String message) {
    return new HubException(Code.INVALID_REQUEST, message);
  }

  public static HubException jobNotFound(String jobId) {
    return new HubException(Code.JOB_NOT_FOUND, "job not found: " + jobId);
  }

  public static HubException jobExists(String jobId) {
    return new HubException(Code.JOB_EXISTS, "job already exists: " + jobId);
  }

  public static HubException forbidden(String message) {
    return new HubException(Code.FORBIDDEN, message);
  }

  public static HubException unauthorized(String message) {
    return new HubException(Code.UNAUTHORIZED, message);
  }

  public static HubException unavailable(String message, Throwable cause) {
    return new HubException(Code.STORE_UNAVAILABLE, message, cause);
  }

  /**
   * The store cannot take the write now but is expected to soon (its queue is full, another process
   * holds its lock): the caller should retry after {@code retryAfter}.
   */
  public static HubException unavailable(String message, Throwable cause, Duration retryAfter) {
    return new HubException(Code.STORE_UNAVAILABLE, message, cause, retryAfter);
  }

  /**
   * A store's answer to an event that lost the race for its seq (see {@link
   * io.progresshub.core.spi.JobStore}): reload the job and apply the event again.
   *
   * @param detail why, e.g. "the stored seq is already 7"
   */
  public static HubException staleSeq(String jobId, long seq, String detail) {
    return new HubException(
        Code.STALE_SEQ,
        "job "
            + jobId
            + ": event seq "
            + seq
            + " is stale ("
            + detail
            + "): another writer changed"
            + " the job first");
  }

  /** The job's state would grow past its bounds ({@link JobLimits}). */
  public static HubException tooLarge(String message) {
    return new HubException(Code.PAYLOAD_TOO_LARGE, message);
  }
}
