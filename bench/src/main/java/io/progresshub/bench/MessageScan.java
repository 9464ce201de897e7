package io.progresshub.bench;

/**
 * The few fields the bench reads from a server message, found in one pass over the JSON bytes
 * without building a tree (the generator reads up to a few hundred thousand messages a second on
 * one core). Reused: one instance per event loop.
 *
 * <p>Reads {@code type}, {@code seq}, {@code status}, {@code stage} (the bench's stages are {@code
 * "s<n>"}), {@code replay} and {@code t} (the publish time the bench puts in {@code metadata.t}, a
 * string or a number of nanoseconds).
 */
final class MessageScan {
  static final int OTHER = 0;
  static final int PROGRESS = 1;
  static final int SUBSCRIBED = 2;
  static final int ESTABLISHED = 3;
  static final int ERROR = 4;

  int type;
  long seq;
  int stage;
  boolean terminal;
  boolean replay;
  long t;

  private static final byte[] K_TYPE = ascii("type");
  private static final byte[] K_SEQ = ascii("seq");
  private static final byte[] K_STATUS = ascii("status");
  private static final byte[] K_STAGE = ascii("stage");
  private static final byte[] K_REPLAY = ascii("replay");
  private static final byte[] K_T = ascii("t");
  private static final byte[] V_PROGRESS = ascii("progress");
  private static final byte[] V_SUBSCRIBED = ascii("subscribed");
  private static final byte[] V_ESTABLISHED = ascii("connection_established");
  private static final byte[] V_ERROR = ascii("error");
  private static final byte[] V_COMPLETED = ascii("completed");
  private static final byte[] V_FAILED = ascii("failed");
  private static final byte[] V_CANCELLED = ascii("cancelled");

  /** Parses {@code b[0, len)}; unknown or malformed input leaves fields at their defaults. */
  MessageScan parse(byte[] b, int len) {
    type = OTHER;
    seq = -1;
    stage = -1;
    terminal = false;
    replay = false;
    t = -1;
    int i = 0;
    while (i < len) {
      if (b[i] != '"') {
        i++;
        continue;
      }
      int keyStart = i + 1;
      int keyEnd = keyStart;
      while (keyEnd < len && b[keyEnd] != '"') {
        if (b[keyEnd] == '\\') {
          keyEnd++;
        }
        keyEnd++;
      }
      if (keyEnd >= len) {
        break;
      }
      int j = skipSpace(b, keyEnd + 1, len);
      if (j >= len || b[j] != ':') {
        i = keyEnd + 1; // a string value, not a key
        continue;
      }
      j = skipSpace(b, j + 1, len);
      i = value(b, keyStart, keyEnd, j, len);
    }
    return this;
  }

  /** Reads the value of a key we care about; returns where to continue scanning. */
  private int value(byte[] b, int ks, int ke, int v, int len) {
    if (v >= len) {
      return len;
    }
    if (is(b, ks, ke, K_TYPE) && b[v] == '"') {
      int end = stringEnd(b, v + 1, len);
      if (is(b, v + 1, end, V_PROGRESS)) {
        type = PROGRESS;
      } else if (is(b, v + 1, end, V_SUBSCRIBED)) {
        type = SUBSCRIBED;
      } else if (is(b, v + 1, end, V_ESTABLISHED)) {
        type = ESTABLISHED;
      } else if (is(b, v + 1, end, V_ERROR)) {
        type = ERROR;
      }
      return end + 1;
    }
    if (is(b, ks, ke, K_SEQ)) {
      seq = number(b, v, len);
      return v;
    }
    if (is(b, ks, ke, K_T)) {
      t = number(b, b[v] == '"' ? v + 1 : v, len);
      return v;
    }
    if (is(b, ks, ke, K_STATUS) && b[v] == '"') {
      int end = stringEnd(b, v + 1, len);
      terminal =
          is(b, v + 1, end, V_COMPLETED)
              || is(b, v + 1, end, V_FAILED)
              || is(b, v + 1, end, V_CANCELLED);
      return end + 1;
    }
    if (is(b, ks, ke, K_STAGE) && b[v] == '"') {
      int end = stringEnd(b, v + 1, len);
      if (v + 1 < end && b[v + 1] == 's') {
        long n = number(b, v + 2, end);
        stage = n >= 0 && n <= Integer.MAX_VALUE ? (int) n : -1;
      }
      return end + 1;
    }
    if (is(b, ks, ke, K_REPLAY)) {
      replay = b[v] == 't';
      return v;
    }
    return v;
  }

  private static int skipSpace(byte[] b, int i, int len) {
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
      i++;
    }
    return i;
  }

  private static int stringEnd(byte[] b, int i, int len) {
    while (i < len && b[i] != '"') {
      if (b[i] == '\\') {
        i++;
      }
      i++;
    }
    return Math.min(i, len);
  }

  /** A non-negative integer at {@code i} (digits only; stops at '.', '"', ',', ...), or -1. */
  private static long number(byte[] b, int i, int len) {
    long n = 0;
    int digits = 0;
    while (i < len && b[i] >= '0' && b[i] <= '9' && digits < 19) {
      n = n * 10 + (b[i] - '0');
      i++;
      digits++;
    }
    return digits == 0 ? -1 : n;
  }

  private static boolean is(byte[] b, int from, int to, byte[] word) {
    if (to - from != word.length) {
      return false;
    }
    for (int k = 0; k < word.length; k++) {
      if (b[from + k] != word[k]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }
}
