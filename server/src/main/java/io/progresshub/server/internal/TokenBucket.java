package io.progresshub.server.internal;

import io.progresshub.server.Rate;

/**
 * One token bucket of a {@link Rate}. Not thread-safe: each bucket has one owner (a connection's
 * event loop), or is used under its owner's lock.
 */
public final class TokenBucket {
  private final double perNano;
  private final double burst;
  private double tokens;
  private long refilledAt;

  public TokenBucket(Rate rate, long nowNanos) {
    this.perNano = rate.perSecond() / 1e9;
    this.burst = rate.burst();
    this.tokens = burst;
    this.refilledAt = nowNanos;
  }

  /**
   * Takes {@code count} tokens if there are that many, or a full bucket's worth when {@code count}
   * is more than a burst (the rest becomes debt that later refills pay off); else takes none.
   */
  public boolean tryTake(long nowNanos, int count) {
    refill(nowNanos);
    if (tokens >= Math.min(count, burst)) {
      tokens -= count;
      return true;
    }
    return false;
  }

  /** Nanoseconds until {@link #tryTake} of {@code count} would succeed (0 if it would now). */
  public long nanosUntil(long nowNanos, int count) {
    refill(nowNanos);
    double needed = Math.min(count, burst);
    return tokens >= needed ? 0 : (long) Math.ceil((needed - tokens) / perNano);
  }

  /** Whether the bucket is full again: its owner may forget it. */
  public boolean full(long nowNanos) {
    refill(nowNanos);
    return tokens >= burst;
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - refilledAt;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * perNano);
      refilledAt = nowNanos;
    }
  }
}
