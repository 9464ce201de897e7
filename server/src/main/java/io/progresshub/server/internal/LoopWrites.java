package io.progresshub.server.internal;

import io.netty.buffer.ByteBuf;
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

  /**
   * Looks at the first live job state of each run as it is written: one sample per run keeps the
   * cost off the per-message path, and a run holds whatever queued since the last one.
   */
  public interface WriteSampler {
    WriteSampler NONE = frame -> {};

    /** Called on the event loop with a frame about to be written; must not keep it. */
    void sample(ByteBuf frame);
  }

  /**
   * What the connections of one loop have been written and spared, for metrics: plain fields,
   * written by this loop only (deliveries once per run, the rest by {@link Outbox} on its slow
   * paths) and summed by {@link PerLoop#totals}. A reader on another thread may see them a little
   * late, never torn (64-bit JVMs write a long at once).
   */
  long deliveries;

  long conflated;
  long dropped;
  long overflows;

  private final EventExecutor loop;
  private final WriteSampler sampler;
  private final Queue<Outbox.Message> queue = PlatformDependent.newMpscQueue();
  private final List<Outbox> written = new ArrayList<>();
  private volatile int scheduled;

  /** Adds since the queue's size was last looked at; a racy sample is all it needs to be. */
  private int addsSinceCheck;

  private final int maxQueued;

  public LoopWrites(EventExecutor loop, int maxQueued) {
    this(loop, maxQueued, WriteSampler.NONE);
  }

  private LoopWrites(EventExecutor loop, int maxQueued, WriteSampler sampler) {
    this.loop = loop;
    this.maxQueued = maxQueued;
    this.sampler = sampler;
  }

  /**
   * The counts of every loop together.
   *
   * @param deliveries job states written to subscribers
   * @param conflated progress ticks replaced by a newer state before they could be written
   * @param dropped messages discarded unwritten: their connection closed, overflowed or went away
   * @param overflows connections handed over as slow consumers
   */
  public record Totals(long deliveries, long conflated, long dropped, long overflows) {}

  /** One {@link LoopWrites} per event loop of a server, made on first use. */
  public static final class PerLoop {
    private final Map<EventExecutor, LoopWrites> loops = new ConcurrentHashMap<>();
    private final WriteSampler sampler;

    public PerLoop() {
      this(WriteSampler.NONE);
    }

    public PerLoop(WriteSampler sampler) {
      this.sampler = sampler;
    }

    public LoopWrites of(EventExecutor loop) {
      return loops.computeIfAbsent(loop, l -> new LoopWrites(l, MAX_QUEUED, sampler));
    }

    /** The counts of all loops, read as they are now. */
    public Totals totals() {
      long deliveries = 0;
      long conflated = 0;
      long dropped = 0;
      long overflows = 0;
      for (LoopWrites writes : loops.values()) {
        deliveries += writes.deliveries;
        conflated += writes.conflated;
        dropped += writes.dropped;
        overflows += writes.overflows;
      }
      return new Totals(deliveries, conflated, dropped, overflows);
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
    boolean sampled = false;
    long delivered = 0;
    while (count++ < MAX_PER_RUN && (message = queue.poll()) != null) {
      Outbox target = message.outbox();
      boolean aboutAJob = message.jobId() != null;
      if (!sampled && aboutAJob && message.frame() != null) {
        sampled = true;
        sampler.sample(message.frame());
      }
      if (target.write(message)) {
        if (aboutAJob) {
          delivered++;
        }
        if (!target.pendingFlush) {
          target.pendingFlush = true;
          written.add(target);
        }
      }
    }
    // Once per run, not per message: producers write this object's cache line on every add.
    deliveries += delivered;
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
