package io.progresshub.redis;

/** Redis stream entry ids, {@code <milliseconds>-<sequence>}, in the order Redis gives them. */
final class LogIds {

  /** Before every entry. */
  static final String NONE = "0-0";

  private LogIds() {}

  /** Negative, zero or positive as {@code a} comes before, with or after {@code b}. */
  static int compare(String a, String b) {
    int order = Long.compare(part(a, 0), part(b, 0));
    return order != 0 ? order : Long.compare(part(a, 1), part(b, 1));
  }

  private static long part(String id, int index) {
    int dash = id.indexOf('-');
    if (dash < 0) {
      throw new IllegalArgumentException("not a stream id: " + id);
    }
    return Long.parseUnsignedLong(index == 0 ? id.substring(0, dash) : id.substring(dash + 1));
  }
}
