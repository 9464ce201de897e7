package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Deletes finished jobs once they finished longer ago than the retention window, and tells every
 * node. Owns the thread that sweeps on a schedule: {@link #start} starts it, {@link #close} stops
 * it; {@link #expireFinishedJobs} also sweeps on demand. Thread-safe.
 */
final class RetentionSweeper implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(RetentionSweeper.class.getName());

  /** How far the wall clock may run ahead of the elapsed time before the sweep says so. */
  private static final Duration CLOCK_JUMP_WORTH_A_WARNING = Duration.ofMinutes(1);

  private final JobStore store;
  private final Broker broker;
  private final Clock clock;
  private final LongSupplier monotonicClock;
  private final Instant startedAt;
  private final long startedAtNanos;
  private final AtomicLong reportedClockLead = new AtomicLong();
  private final Duration retention;
  private final Duration interval;
  private ScheduledExecutorService executor;
  private boolean closed;

  /**
   * @param interval how often {@link #start} sweeps; zero never (only on demand)
   */
  RetentionSweeper(
      JobStore store,
      Broker broker,
      Clock clock,
      LongSupplier monotonicClock,
      Duration retention,
      Duration interval) {
    this.store = store;
    this.broker = broker;
    this.clock = clock;
    this.monotonicClock = monotonicClock;
    this.startedAt = clock.instant();
    this.startedAtNanos = monotonicClock.getAsLong();
    this.retention = retention;
    this.interval = interval;
  }

  /** Starts sweeping every {@code interval} on a daemon thread of its own, unless it is zero. */
  synchronized void start() {
    if (closed || executor != null || interval.isZero()) {
      return;
    }
    executor =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "progress-hub-retention");
              thread.setDaemon(true);
              return thread;
            });
    long every = interval.toMillis();
    executor.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Removes jobs that finished longer ago than the retention window; returns how many. Elapsed time
   * is measured on the monotonic clock, so a wall clock stepped forward deletes nothing early.
   */
  int expireFinishedJobs() {
    List<String> expired = store.deleteFinishedBefore(retentionNow().minus(retention));
    for (String jobId : expired) {
      broker.publish(new HubEvent.JobRemoved(jobId));
    }
    return expired.size();
  }

  /**
   * The wall clock, but never later than this sweeper's start plus the time elapsed since on the
   * monotonic clock. Finish times are wall-clock instants; a wall clock stepped forward by the
   * retention (an operator, a VM resumed from a snapshot, a bad time source) would otherwise make
   * every finished job look expired at once, and the next sweep would delete acknowledged history
   * early. Stepped back, the wall clock is the earlier one and wins: jobs are then kept longer,
   * never shorter. Only a restart after a jump, with no elapsed time to compare, trusts it again.
   */
  private Instant retentionNow() {
    Instant wall = clock.instant();
    Instant elapsed = startedAt.plusNanos(monotonicClock.getAsLong() - startedAtNanos);
    if (!wall.isAfter(elapsed)) {
      return wall;
    }
    long lead = Duration.between(elapsed, wall).toNanos();
    long reported = reportedClockLead.get();
    if (Math.abs(lead - reported) > CLOCK_JUMP_WORTH_A_WARNING.toNanos()
        && reportedClockLead.compareAndSet(reported, lead)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "the wall clock is {0} ahead of the time elapsed since this hub started; finished jobs"
              + " expire by the elapsed time",
          Duration.ofNanos(lead));
    }
    return elapsed;
  }

  private void sweepQuietly() {
    try {
      int removed = expireFinishedJobs();
      if (removed > 0) {
        LOG.log(System.Logger.Level.INFO, "retention removed {0} finished jobs", removed);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "retention sweep failed", e);
    }
  }

  /** Stops the scheduled sweep; a sweep in progress is interrupted. */
  @Override
  public synchronized void close() {
    closed = true;
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
