package io.progresshub.protocol;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reconnect delay a server asks for in the reason of a 1001 close when it shuts down, e.g.
 * {@code "server shutting down; retry_after_ms=2140"}. Each connection gets its own delay, so that
 * the clients of a node that stops come back spread over a window instead of all at once.
 */
public final class RetryHint {

  /** The reason of a 1001 close at shutdown, before the hint. */
  public static final String SHUTTING_DOWN = "server shutting down";

  private static final Pattern HINT = Pattern.compile("(?:^|[;\\s])retry_after_ms=(\\d{1,9})\\b");

  private RetryHint() {}

  /** The close reason that asks the client to wait {@code millis} before reconnecting. */
  public static String shutdownReason(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("millis: " + millis + " (expected: >= 0)");
    }
    return SHUTTING_DOWN + "; retry_after_ms=" + millis;
  }

  /** The delay a close reason asks for, if it carries one. */
  public static OptionalLong retryAfterMillis(String reason) {
    if (reason == null) {
      return OptionalLong.empty();
    }
    Matcher matcher = HINT.matcher(reason);
    return matcher.find()
        ? OptionalLong.of(Long.parseLong(matcher.group(1)))
        : OptionalLong.empty();
  }
}
