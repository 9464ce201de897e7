package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Why this node needs every event of a job: local subscribers ({@link Subscriptions}) or a cached
 * state to build its next event on ({@link JobWriter}). Counts the reasons per job and tells the
 * broker ({@link Broker#interest}) when the first comes and the last goes, so that its calls for
 * one job alternate, in order. Thread-safe.
 */
final class JobInterest {

  private final Broker broker;
  private final ConcurrentHashMap<String, Integer> reasons = new ConcurrentHashMap<>();

  JobInterest(Broker broker) {
    this.broker = broker;
  }

  /**
   * One more reason to hear of the job. Callers hold a lock of their own map's entry meanwhile:
   * this map's entry is always taken after it, never before.
   */
  void acquire(String jobId) {
    reasons.compute(
        jobId,
        (id, count) -> {
          if (count == null) {
            broker.interest(id, true);
            return 1;
          }
          return count + 1;
        });
  }

  /** One reason fewer; each {@link #acquire} is released once. */
  void release(String jobId) {
    reasons.computeIfPresent(
        jobId,
        (id, count) -> {
          if (count == 1) {
            broker.interest(id, false);
            return null;
          }
          return count - 1;
        });
  }
}
