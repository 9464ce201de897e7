package io.progresshub.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock that stands still until a test moves it, with a monotonic clock beside it ({@link
 * #nanoTime}) for what measures elapsed time: {@link #advance} is time passing and moves both;
 * {@link #set} steps the wall clock alone, as an operator or a bad time source would.
 */
public final class MutableClock extends Clock {
  private final AtomicReference<Instant> now;
  private final AtomicLong nanos = new AtomicLong();

  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  /** Time passes: the wall clock and the monotonic clock move together. */
  public void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
    now.updateAndGet(instant -> instant.plus(duration));
  }

  /** The wall clock is stepped to {@code instant}; no time passes on the monotonic clock. */
  public void set(Instant instant) {
    now.set(instant);
  }

  /** The monotonic clock, like {@link System#nanoTime}: only {@link #advance} moves it. */
  public long nanoTime() {
    return nanos.get();
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a test clock stays in UTC");
  }
}
