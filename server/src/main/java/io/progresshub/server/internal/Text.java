package io.progresshub.server.internal;

/** Small text helpers shared by the transports. */
public final class Text {
  /** How much of a client's value an error message quotes back. */
  static final int QUOTED_LENGTH = 64;

  private Text() {}

  /**
   * {@code value}, cut to {@value #QUOTED_LENGTH} characters: an error quotes what the client sent
   * without echoing back an arbitrarily long input.
   */
  public static String abbreviate(String value) {
    return value.length() <= QUOTED_LENGTH ? value : value.substring(0, QUOTED_LENGTH) + "...";
  }
}
