package io.progresshub.core;

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

  public HubException(Kind kind, String code, String message) {
    super(message);
    this.kind = kind;
    this.code = code;
  }

  public HubException(Kind kind, String code, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.code = code;
  }

  public Kind kind() {
    return kind;
  }

  public String code() {
    return code;
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
}
