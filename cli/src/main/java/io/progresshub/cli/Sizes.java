package io.progresshub.cli;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes: {@code 65536}, {@code 64KiB}, {@code 64k}, {@code 1MiB}, {@code 1m} (binary units).
 */
final class Sizes {

  /** What {@link #parse} accepts, for error messages. */
  static final String EXPECTED = "a size in bytes such as 65536, 64KiB or 1MiB";

  private static final Pattern SIZE =
      Pattern.compile("(\\d{1,10})\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

  private Sizes() {}

  /** The number of bytes {@code text} denotes, if it is a size above 0 that fits an int. */
  static Optional<Integer> parse(String text) {
    Matcher matcher = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!matcher.matches()) {
      return Optional.empty();
    }
    long value = Long.parseLong(matcher.group(1));
    String unit = matcher.group(2) == null ? "b" : matcher.group(2);
    long bytes =
        switch (unit.charAt(0)) {
          case 'k' -> value << 10;
          case 'm' -> value << 20;
          case 'g' -> value << 30;
          default -> value;
        };
    return bytes > 0 && bytes <= Integer.MAX_VALUE ? Optional.of((int) bytes) : Optional.empty();
  }

  /** {@code bytes} the way a user would write it: {@code 64KiB}, {@code 1MiB}, {@code 1000}. */
  static String format(int bytes) {
    if (bytes % (1 << 20) == 0) {
      return (bytes >> 20) + "MiB";
    }
    if (bytes % (1 << 10) == 0) {
      return (bytes >> 10) + "KiB";
    }
    return Integer.toString(bytes);
  }
}
