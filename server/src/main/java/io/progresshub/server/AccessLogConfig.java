package io.progresshub.server;

import java.util.Locale;
import java.util.Objects;

/**
 * How the access log (logger {@code progress-hub.access}: one line per REST request, one per
 * WebSocket or SSE connection opened and closed) writes its lines. Whether they are written at all
 * is the logging configuration's business: set that logger's level to {@code OFF} to silence it.
 *
 * @param format {@link Format#PLAIN} by default
 */
public record AccessLogConfig(Format format) {

  /** The shape of one line. */
  public enum Format {
    /** {@code key=value} fields after the method and path, for people. */
    PLAIN,
    /** One JSON object per line, for log shippers. */
    JSON;

    /**
     * The format named {@code value} ({@code plain} or {@code json}).
     *
     * @throws IllegalArgumentException for any other value
     */
    public static Format of(String value) {
      return switch (value) {
        case "plain" -> PLAIN;
        case "json" -> JSON;
        default ->
            throw new IllegalArgumentException(
                "log-format: '" + value + "' (expected: plain or json)");
      };
    }

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public AccessLogConfig {
    Objects.requireNonNull(format, "format");
  }

  public static AccessLogConfig defaults() {
    return new AccessLogConfig(Format.PLAIN);
  }
}
