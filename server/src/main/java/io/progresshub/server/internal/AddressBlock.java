package io.progresshub.server.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IP address or a CIDR block ({@code 10.0.0.0/8}, {@code fd00::/8}), matched bitwise. */
public record AddressBlock(byte[] network, int prefixBits) {

  /**
   * Parses {@code a.b.c.d}, {@code a.b.c.d/n}, an IPv6 address or block. Only literals: a host name
   * here would mean a DNS lookup on every start.
   *
   * @throws IllegalArgumentException with the bad value and what was expected
   */
  public static AddressBlock parse(String text) {
    String trimmed = text.strip();
    int slash = trimmed.indexOf('/');
    String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
    byte[] bytes = literal(address);
    if (bytes == null) {
      throw new IllegalArgumentException(
          "trusted proxy: \"" + text + "\" (expected: an IP address or CIDR block)");
    }
    int bits = bytes.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(trimmed.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > bytes.length * 8) {
        throw new IllegalArgumentException(
            "trusted proxy: \""
                + text
                + "\" (expected: a prefix length of 0-"
                + bytes.length * 8
                + ")");
      }
    }
    return new AddressBlock(bytes, bits);
  }

  public boolean contains(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != network.length) {
      return false;
    }
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) {
      if (bytes[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixBits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xFF << (8 - rest);
    return (bytes[full] & mask) == (network[full] & mask);
  }

  private static boolean isIpv4(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  /** The bytes of an IP literal, or null if {@code text} is not one (never a DNS lookup). */
  public static byte[] literal(String text) {
    if (text.isEmpty() || !(text.indexOf(':') >= 0 || text.matches("[0-9.]+"))) {
      return null;
    }
    if (text.indexOf(':') < 0 && !isIpv4(text)) {
      return null;
    }
    try {
      String bare =
          text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
      if (bare.indexOf(':') >= 0 && !bare.matches("[0-9A-Fa-f:.]+")) {
        return null;
      }
      return InetAddress.getByName(bare).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
