package io.progresshub.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Copies of JSON objects held as plain Java maps. */
final class PlainJson {
  private PlainJson() {}

  /**
   * An unmodifiable copy that keeps the order of the keys and any null values ({@link Map#copyOf}
   * keeps neither), since a null in an event's metadata removes that key.
   */
  static Map<String, Object> copyOf(Map<String, Object> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
