package io.progresshub.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Human durations: {@code 30s}, {@code 15m}, {@code 24h}, {@code 7d}, {@code 1h30m}, or ISO-8601.
 */
final class Durations {

  /** What {@link #parse} accepts, for error messages. */
  static final String EXPECTED = "a duration such as 30s, 15m, 24h, 7d, 1h30m or ISO-8601 PT24H";

  private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|s|m|h|d))+");
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {}

  /** The duration {@code text} denotes; empty if it is not one (a bare number has no unit). */
  static Optional<Duration> parse(String text) {
    String trimmed = text.strip().toLowerCase(Locale.ROOT);
    try {
      if (trimmed.startsWith("p") || trimmed.startsWith("-p")) {
        return Optional.of(Duration.parse(trimmed.toUpperCase(Locale.ROOT)));
      }
      if (!WHOLE.matcher(trimmed).matches()) {
        return Optional.empty();
      }
      Duration total = Duration.ZERO;
      Matcher part = PART.matcher(trimmed);
      while (part.find()) {
        long amount = Long.parseLong(part.group(1));
        total =
            total.plus(
                switch (part.group(2)) {
                  case "ms" -> Duration.ofMillis(amount);
                  case "s" -> Duration.ofSeconds(amount);
                  case "m" -> Duration.ofMinutes(amount);
                  case "h" -> Duration.ofHours(amount);
                  case "d" -> Duration.ofDays(amount);
                  default -> throw new IllegalStateException(part.group(2));
                });
      }
      return Optional.of(total);
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      return Optional.empty(); // malformed ISO-8601, or too large to represent
    }
  }

  /** {@code duration} the way a user would write it: {@code 24h}, {@code 1h30m}, {@code 500ms}. */
  static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    append(text, duration.toDaysPart(), "d");
    append(text, duration.toHoursPart(), "h");
    append(text, duration.toMinutesPart(), "m");
    append(text, duration.toSecondsPart(), "s");
    append(text, duration.toMillisPart(), "ms");
    return text.length() == 0 || duration.isNegative() ? duration.toString() : text.toString();
  }

  private static void append(StringBuilder text, long amount, String unit) {
    if (amount != 0) {
      text.append(amount).append(unit);
    }
  }
}
