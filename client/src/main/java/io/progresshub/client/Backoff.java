package io.progresshub.client;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential back-off with full jitter: the delay before retry {@code n} (0-based) is uniform in
 * {@code [0, min(max, initial * 2^n)]}, so clients that lost the same server do not all come back
 * at the same instant.
 *
 * @param initial the cap of the first delay
 * @param max the largest cap
 */
public record Backoff(Duration initial, Duration max) {

  /** 0.5 s doubling up to 20 s. */
  public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(20));

  public Backoff {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial: " + initial + " (expected: > 0)");
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= initial " + initial + ")");
    }
  }

  /** The cap of the delay before retry {@code attempt}, without jitter. */
  public Duration cap(int attempt) {
    long initialMillis = initial.toMillis();
    long cap = attempt >= 30 ? Long.MAX_VALUE : initialMillis << attempt;
    return Duration.ofMillis(Math.min(max.toMillis(), cap));
  }

  /** A random delay before retry {@code attempt}, in {@code [0, cap(attempt)]}. */
  public Duration delay(int attempt) {
    return Duration.ofMillis(ThreadLocalRandom.current().nextLong(cap(attempt).toMillis() + 1));
  }
}
