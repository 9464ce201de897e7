package io.progresshub.server.internal;

import io.progresshub.server.Rate;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One token bucket per key (a client address, a token's subject), all at the same {@link Rate}.
 * Thread-safe. Buckets that have refilled are forgotten once the map grows past {@code maxKeys}, so
 * a stream of new keys costs bounded memory.
 */
public final class RateLimiter {
  private final Rate rate;
  private final int maxKeys;
  private final ConcurrentHashMap<Object, TokenBucket> buckets = new ConcurrentHashMap<>();

  public RateLimiter(Rate rate, int maxKeys) {
    this.rate = rate;
    this.maxKeys = maxKeys;
  }

  /** Takes a token for {@code key}: 0 if allowed, else the nanoseconds until one is available. */
  public long tryAcquire(Object key) {
    return tryAcquire(key, 1);
  }

  /**
   * Takes {@code count} tokens for {@code key} (see {@link TokenBucket#tryTake}): 0 if allowed,
   * else the nanoseconds until they would be.
   */
  public long tryAcquire(Object key, int count) {
    if (rate.unlimited()) {
      return 0;
    }
    long now = System.nanoTime();
    if (buckets.size() >= maxKeys && !buckets.containsKey(key)) {
      forgetFullBuckets(now);
    }
    TokenBucket bucket = buckets.computeIfAbsent(key, k -> new TokenBucket(rate, now));
    synchronized (bucket) {
      return bucket.tryTake(now, count) ? 0 : Math.max(1, bucket.nanosUntil(now, count));
    }
  }

  public int size() {
    return buckets.size();
  }

  private void forgetFullBuckets(long now) {
    for (Iterator<TokenBucket> it = buckets.values().iterator(); it.hasNext(); ) {
      TokenBucket bucket = it.next();
      synchronized (bucket) {
        if (bucket.full(now)) {
          it.remove();
        }
      }
    }
  }
}
