package io.progresshub.protocol;

import java.util.Optional;

/**
 * The WebSocket close codes of protocol v1, split into codes after which a client should reconnect
 * (with {@code since}) and codes after which reconnecting cannot help. The server never closes with
 * {@link #NORMAL} on its own (it only echoes a client's own close code), and does not send {@link
 * #FORBIDDEN} at present (another user's job is {@link #JOB_NOT_FOUND}); both stay in the table for
 * clients.
 */
public enum CloseCode {
  NORMAL(1000, false, "normal closure"),
  GOING_AWAY(1001, true, "server going away"),
  PROTOCOL_ERROR(1002, false, "WebSocket protocol error"),
  UNSUPPORTED_DATA(1003, false, "binary frames are not supported"),
  INVALID_PAYLOAD(1007, false, "invalid UTF-8 in a text frame"),
  POLICY_VIOLATION(1008, false, "policy violation"),
  MESSAGE_TOO_BIG(1009, false, "message too big"),
  INTERNAL_ERROR(1011, true, "internal server error"),
  SLOW_CONSUMER(4008, true, "slow consumer: reconnect with since"),
  BAD_REQUEST(4400, false, "bad request"),
  UNAUTHORIZED(4401, false, "unauthorized: get a new token before reconnecting"),
  FORBIDDEN(4403, false, "forbidden: the token does not allow this"),
  JOB_NOT_FOUND(4404, false, "job not found"),
  RATE_LIMITED(4429, true, "rate limited: reconnect after a back-off");

  private final int code;
  private final boolean reconnect;
  private final String reason;

  CloseCode(int code, boolean reconnect, String reason) {
    this.code = code;
    this.reconnect = reconnect;
    this.reason = reason;
  }

  public int code() {
    return code;
  }

  /** Whether a client should reconnect after this close. */
  public boolean reconnect() {
    return reconnect;
  }

  public String reason() {
    return reason;
  }

  public static Optional<CloseCode> of(int code) {
    for (CloseCode value : values()) {
      if (value.code == code) {
        return Optional.of(value);
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a client should reconnect after a close with {@code code}, including codes this server
   * never sends: abnormal closure (1006) and other 1xxx transport failures reconnect; unknown 4xxx
   * codes do not.
   */
  public static boolean shouldReconnect(int code) {
    return of(code).map(CloseCode::reconnect).orElse(code < 4000 && code != 1000);
  }
}
