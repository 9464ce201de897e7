package io.progresshub.server.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the operator about browser origins the server refused, with the setting that would allow
 * them: a page on another origin otherwise only sees its WebSocket fail (a browser reports a
 * refused handshake as close 1006) and nobody knows why. At most one line a minute per origin, and
 * at most {@value #MAX_LINES_PER_MINUTE} lines a minute in all, so that requests with made-up
 * origins cannot flood the log.
 */
public final class RefusedOrigins {
  private static final Logger LOG = LoggerFactory.getLogger(RefusedOrigins.class);

  static final int MAX_LINES_PER_MINUTE = 20;

  /** Origins remembered at most: past it the memory starts again (a line may then repeat). */
  static final int MAX_REMEMBERED = 1_000;

  private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Map<String, Long> lastLogged = new HashMap<>(); // guarded by this
  private long windowStart = System.nanoTime(); // guarded by this
  private int linesInWindow; // guarded by this
  private int suppressedInWindow; // guarded by this

  /** A request from {@code origin} was refused; logs it unless it was logged in the last minute. */
  public void refused(String origin) {
    long now = System.nanoTime();
    String quoted = printable(Text.abbreviate(origin));
    int suppressed;
    synchronized (this) {
      if (now - windowStart >= MINUTE_NANOS) {
        windowStart = now;
        linesInWindow = 0;
        suppressed = suppressedInWindow;
        suppressedInWindow = 0;
      } else {
        suppressed = 0;
      }
      Long last = lastLogged.get(quoted);
      if (last != null && now - last < MINUTE_NANOS) {
        return;
      }
      if (linesInWindow >= MAX_LINES_PER_MINUTE) {
        suppressedInWindow++;
        return;
      }
      if (lastLogged.size() >= MAX_REMEMBERED) {
        lastLogged.clear();
      }
      lastLogged.put(quoted, now);
      linesInWindow++;
    }
    if (suppressed > 0) {
      LOG.warn("{} more refused origins were not logged in the last minute", suppressed);
    }
    LOG.warn(
        "refused a request from origin {}: to allow it, start the server with --allowed-origin {}"
            + " (or PROGRESS_HUB_ALLOWED_ORIGINS, or allowed-origins in the config file)",
        quoted,
        quoted);
  }

  /** The value with control characters replaced: it came from a client and goes into a log. */
  private static String printable(String value) {
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return out.toString();
  }
}
