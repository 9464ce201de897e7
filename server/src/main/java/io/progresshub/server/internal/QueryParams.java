package io.progresshub.server.internal;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.core.HubException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The query parameters of one request, read the same way by every endpoint: the first value of a
 * name counts, and a number that does not parse is refused with {@code invalid_request}, naming the
 * parameter, the value and what was expected.
 */
public final class QueryParams {
  private final Map<String, List<String>> parameters;

  private QueryParams(Map<String, List<String>> parameters) {
    this.parameters = parameters;
  }

  public static QueryParams of(QueryStringDecoder query) {
    return new QueryParams(query.parameters());
  }

  /** The first value of {@code name}, if the query has it (possibly empty). */
  public Optional<String> get(String name) {
    List<String> values = parameters.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /**
   * A count or offset: a whole number {@code >= 0}, or {@code fallback} when absent.
   *
   * @throws HubException {@code invalid_request}: "{@code limit: 'ten' (expected: a whole number >=
   *     0)}"
   */
  public long nonNegativeLong(String name, long fallback) {
    Optional<String> raw = get(name);
    if (raw.isEmpty()) {
      return fallback;
    }
    OptionalLong value = parseNonNegative(raw.get());
    if (value.isEmpty()) {
      throw HubException.invalid(
          name + ": '" + Text.abbreviate(raw.get()) + "' (expected: a whole number >= 0)");
    }
    return value.getAsLong();
  }

  /** As {@link #nonNegativeLong}, and at most {@link Integer#MAX_VALUE}. */
  public int nonNegativeInt(String name, int fallback) {
    long value = nonNegativeLong(name, fallback);
    if (value > Integer.MAX_VALUE) {
      throw HubException.invalid(name + ": " + value + " (expected: a smaller number)");
    }
    return (int) value;
  }

  /**
   * A job's seq to resume after, such as {@code since}: empty when absent.
   *
   * @throws HubException {@code invalid_request}: "{@code since: 'x' (expected: a seq >= 0)}"
   */
  public OptionalLong seq(String name) {
    Optional<String> raw = get(name);
    if (raw.isEmpty()) {
      return OptionalLong.empty();
    }
    OptionalLong value = parseNonNegative(raw.get());
    if (value.isEmpty()) {
      throw HubException.invalid(
          name + ": '" + Text.abbreviate(raw.get()) + "' (expected: a seq >= 0)");
    }
    return value;
  }

  /**
   * {@code raw} as a whole number {@code >= 0} as {@link Long#parseLong} reads it (no spaces), or
   * empty if it is anything else: for values that come from elsewhere than the query ({@code
   * Last-Event-ID}) or whose refusal is not an exception (a WebSocket handshake answers it after
   * the upgrade).
   */
  public static OptionalLong parseNonNegative(String raw) {
    try {
      long value = Long.parseLong(raw);
      return value < 0 ? OptionalLong.empty() : OptionalLong.of(value);
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
