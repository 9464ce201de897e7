package io.progresshub.server;

/**
 * A token-bucket rate: {@code perSecond} tokens refill every second, up to {@code burst} held at
 * once. {@link #UNLIMITED} (a rate of 0) switches the limit off.
 *
 * @param perSecond sustained rate, > 0; or 0 for no limit
 * @param burst how many may arrive at once after a quiet spell, >= 1
 */
public record Rate(double perSecond, int burst) {
  public static final Rate UNLIMITED = new Rate(0, 1);

  public Rate {
    if (!(perSecond >= 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: >= 0)");
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst: " + burst + " (expected: >= 1)");
    }
  }

  public boolean unlimited() {
    return perSecond == 0;
  }

  @Override
  public String toString() {
    return unlimited() ? "unlimited" : perSecond + "/s (burst " + burst + ")";
  }
}
