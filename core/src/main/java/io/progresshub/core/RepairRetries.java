package io.progresshub.core;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs the repair of a job's subscribers again after a pause, when it could not read the store
 * (Redis restarting, say): without it, subscribers held back at their last seq would wait for the
 * job's next event, and after its last one for ever. At most one retry per job is pending; one
 * daemon thread, started on first use, runs them. Thread-safe.
 */
final class RepairRetries implements AutoCloseable {

  /** Long enough not to hammer a store that is down, short for a subscriber waiting. */
  static final Duration PAUSE = Duration.ofSeconds(1);

  private final Consumer<String> repair;
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final ScheduledThreadPoolExecutor executor;

  RepairRetries(Consumer<String> repair) {
    this.repair = repair;
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "progress-hub-repair-retry");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Repairs {@code jobId} after {@link #PAUSE}, unless a retry of it is already pending. */
  void schedule(String jobId) {
    if (!pending.add(jobId)) {
      return;
    }
    try {
      executor.schedule(
          () -> {
            pending.remove(jobId);
            repair.accept(jobId);
          },
          PAUSE.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      pending.remove(jobId); // closed: the hub is going away
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
