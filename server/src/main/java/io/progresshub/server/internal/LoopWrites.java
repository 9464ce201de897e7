package io.progresshub.server.internal;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * The writes waiting for the connections of one event loop. Any thread queues a message for any
 * connection of the loop; one task drains them all, writes each into its connection, then flushes
 * every connection it wrote to once. One event fanned out to a thousand subscribers costs the loop
 * one task and each connection one flush, not a task per connection.
 *
 * <p>Messages for one connection leave in the order they were queued: the queue is FIFO and only
 * this loop drains it.
 */
public final class LoopWrites implements Runnable {
  /** Messages per run before the loop gets to do I/O again. */
  private static final int MAX_PER_RUN = 16_384;

  private static final AtomicIntegerFieldUpdater<LoopWrites> SCHEDULED =
      AtomicIntegerFieldUpdater.newUpdater(LoopWrites.class, "scheduled");

  /**
   * Messages waiting for one loop past which producers other than the loop itself wait for it: a
   * loop that cannot keep up slows the hub's dispatch (and through it the store's queue, whose
   * producers then get 503) instead of growing the heap.
   */
  public static final int MAX_QUEUED = 1 << 20;

  /** The longest one producer waits at a time, so a stuck loop cannot stop the hub for good. */
  private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final EventExecutor loop;
  private final Queue<Outbox.Message> queue = PlatformDependent.newMpscQueue();
  private final List<Outbox> written = new ArrayList<>();
  private volatile int scheduled;

  /** Adds since the queue's size was last looked at; a racy sample is all it needs to be. */
  private int addsSinceCheck;

  private final int maxQueued;

  private LoopWrites(EventExecutor loop) {
    this(loop, MAX_QUEUED);
  }

  public LoopWrites(EventExecutor loop, int maxQueued) {
    this.loop = loop;
    this.maxQueued = maxQueued;
  }

  /** One {@link LoopWrites} per event loop of a server, made on first use. */
  public static final class PerLoop {
    private final Map<EventExecutor, LoopWrites> loops = new ConcurrentHashMap<>();

    public LoopWrites of(EventExecutor loop) {
      return loops.computeIfAbsent(loop, LoopWrites::new);
    }
  }

  public void add(Outbox.Message message) {
    queue.offer(message);
    if (SCHEDULED.compareAndSet(this, 0, 1)) {
      try {
        loop.execute(this);
      } catch (RejectedExecutionException stopped) {
        drop(); // the loop is gone, and its connections with it
        return;
      }
    }
    if ((++addsSinceCheck & 1023) == 0 && queue.size() > maxQueued && !loop.inEventLoop()) {
      long deadline = System.nanoTime() + MAX_WAIT_NANOS;
      while (queue.size() > maxQueued && System.nanoTime() < deadline) {
        LockSupport.parkNanos(100_000);
      }
    }
  }

  @Override
  public void run() {
    SCHEDULED.set(this, 0); // from here on, a new message schedules another run
    Outbox.Message message;
    int count = 0;
    while (count++ < MAX_PER_RUN && (message = queue.poll()) != null) {
      Outbox target = message.outbox();
      if (target.write(message) && !target.pendingFlush) {
        target.pendingFlush = true;
        written.add(target);
      }
    }
    for (Outbox target : written) {
      target.pendingFlush = false;
      target.flush();
    }
    written.clear();
    if (!queue.isEmpty() && SCHEDULED.compareAndSet(this, 0, 1)) {
      loop.execute(this);
    }
  }

  private void drop() {
    Outbox.Message message;
    while ((message = queue.poll()) != null) {
      message.release();
    }
  }
}
