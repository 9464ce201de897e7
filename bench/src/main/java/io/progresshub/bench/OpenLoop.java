package io.progresshub.bench;

import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Open-loop publishing at a fixed rate: event {@code i} is due at {@code start + i / rate} whatever
 * happened to earlier ones, and carries that intended time as its publish time, so a server that
 * falls behind is charged for the wait (no coordinated omission). Jobs take turns. When more than
 * two seconds' worth of requests (at least 1,000) are unanswered the generator skips events instead
 * of queueing without bound, and counts them: a run with skips did not sustain its rate.
 */
final class OpenLoop {
  private final Jobs jobs;
  private final double rate;
  private final long total;
  private final int maxOutstanding;
  private long start;
  private long issued;
  long skipped;
  private ScheduledFuture<?> timer;
  private boolean done;

  /** Publishing at {@code rate} events/s for {@code seconds} (0: until stopped), once started. */
  OpenLoop(Jobs jobs, double rate, double seconds) {
    this.jobs = jobs;
    this.rate = rate;
    this.total = seconds <= 0 ? Long.MAX_VALUE : (long) Math.ceil(rate * seconds);
    this.maxOutstanding = (int) Math.max(1000, rate * 2);
  }

  /**
   * Publishes at {@code rate} for {@code seconds} and waits until every request is answered (10 s
   * at most): a warm-up, or a phase measured around the call. Returns the finished loop.
   */
  static OpenLoop run(Jobs jobs, double rate, double seconds) {
    OpenLoop loop = new OpenLoop(jobs, rate, seconds).start();
    loop.awaitSent(seconds);
    awaitAnswered(jobs, 10);
    return loop;
  }

  /** Starts on the event loop (call from any thread). */
  OpenLoop start() {
    jobs.net.run(
        () -> {
          start = System.nanoTime();
          timer = jobs.net.loop.scheduleAtFixedRate(this::tick, 0, 1, TimeUnit.MILLISECONDS);
        });
    return this;
  }

  private void tick() {
    if (done) {
      return;
    }
    long now = System.nanoTime();
    long due = Math.min(total, (long) ((now - start) * rate / 1e9) + 1);
    int n = jobs.count();
    while (issued < due) {
      long intended = start + (long) (issued * 1e9 / rate);
      if (jobs.http.outstanding() >= maxOutstanding) {
        skipped++;
      } else {
        jobs.tick((int) (issued % n), intended);
      }
      issued++;
    }
    if (issued >= total) {
      stopOnLoop();
    }
  }

  private void stopOnLoop() {
    done = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /** Stops publishing (call from any thread). */
  void stop() {
    jobs.net.run(this::stopOnLoop);
  }

  /** Waits until the planned events are all sent (bounded by the planned time plus 5 s). */
  void awaitSent(double seconds) {
    long deadline = System.nanoTime() + (long) ((seconds + 5) * 1e9);
    while (!jobs.net.call(() -> done) && System.nanoTime() < deadline) {
      Clients.sleep(10);
    }
    stop();
  }

  long issued() {
    return jobs.net.call(() -> issued);
  }

  /** Waits up to {@code seconds} for every sent request to be answered. */
  static void awaitAnswered(Jobs jobs, double seconds) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (jobs.net.call(jobs.http::outstanding) > 0 && System.nanoTime() < deadline) {
      Clients.sleep(10);
    }
  }
}
