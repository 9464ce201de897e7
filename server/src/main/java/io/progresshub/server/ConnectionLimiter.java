package io.progresshub.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts long-lived connections (WebSockets and SSE streams) in total and per user, so one client
 * or one runaway script cannot take every file descriptor of the process.
 */
final class ConnectionLimiter {
  private final int maxTotal;
  private final int maxPerUser;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();

  ConnectionLimiter(int maxTotal, int maxPerUser) {
    this.maxTotal = maxTotal;
    this.maxPerUser = maxPerUser;
  }

  boolean tryAcquireTotal() {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    return true;
  }

  void releaseTotal() {
    total.decrementAndGet();
  }

  boolean tryAcquireUser(String subject) {
    boolean[] ok = {true};
    perUser.compute(
        subject,
        (key, count) -> {
          AtomicInteger value = count != null ? count : new AtomicInteger();
          if (value.get() >= maxPerUser) {
            ok[0] = false;
          } else {
            value.incrementAndGet();
          }
          return value.get() == 0 ? null : value;
        });
    return ok[0];
  }

  void releaseUser(String subject) {
    perUser.computeIfPresent(subject, (key, count) -> count.decrementAndGet() <= 0 ? null : count);
  }

  int total() {
    return total.get();
  }
}
