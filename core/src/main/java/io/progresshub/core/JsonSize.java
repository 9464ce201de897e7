package io.progresshub.core;

import java.util.Collection;
import java.util.Map;

/**
 * The length in UTF-8 of a value's compact JSON text, without writing it: the core has no JSON
 * library. Exact for the values a JSON parser gives (strings, booleans, null, integers, lists,
 * maps); a floating-point number counts as Java prints it, which is within a few bytes of any
 * encoder's.
 */
final class JsonSize {
  private JsonSize() {}

  static long of(Object value) {
    return switch (value) {
      case null -> 4;
      case String text -> of(text);
      case Boolean bool -> bool ? 4 : 5;
      case Number number -> number.toString().length();
      case Map<?, ?> map -> {
        long bytes = 2 + Math.max(0, map.size() - 1); // braces and commas
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          bytes += of(String.valueOf(entry.getKey())) + 1 + of(entry.getValue());
        }
        yield bytes;
      }
      case Collection<?> list -> {
        long bytes = 2 + Math.max(0, list.size() - 1);
        for (Object element : list) {
          bytes += of(element);
        }
        yield bytes;
      }
      default -> of(String.valueOf(value));
    };
  }

  static long of(String text) {
    long bytes = 2; // quotes
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
        bytes += 2;
      } else if (c < 0x20) {
        bytes += 6; // escaped as backslash, u and four hex digits
      } else if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4; // with its low surrogate, which adds nothing
      } else if (Character.isLowSurrogate(c)) {
        bytes += 0;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
