package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A {@link Broker} for one node: events go to this node's receiver on one dispatcher thread, so the
 * thread that made an event durable (the store's writer) is not held up by fan-out.
 *
 * <h2>Bounded backlog</h2>
 *
 * <p>At most {@code maxPendingEvents} events (default {@value #DEFAULT_MAX_PENDING_EVENTS}) wait
 * for the dispatcher. When that many are waiting, {@link #publish} waits for room instead of
 * dropping the event (it may be a transition every subscriber must see) or growing the heap. The
 * publisher is the thread that made the event durable, so the wait travels back to producers: the
 * SQLite store's writer stops draining its queue, which then fills, and new writes are refused with
 * {@code store_unavailable} and a retry-after hint. A publisher waits at most {@value
 * #MAX_WAIT_FOR_ROOM_MILLIS} ms; if the dispatcher is stuck that long (a receiver blocked against
 * the contract, or waiting for the very thread that publishes), the event is queued anyway and a
 * warning logged, so the worst case is a slow crawl, never a deadlock or a lost event. The
 * dispatcher's own publishes never wait.
 *
 * <p>A receiver that throws, even an {@link Error}, is logged and does not stop the dispatcher.
 */
public final class InMemoryBroker implements Broker {

  /** Default bound on events waiting for the dispatcher. */
  public static final int DEFAULT_MAX_PENDING_EVENTS = 10_000;

  static final long MAX_WAIT_FOR_ROOM_MILLIS = 1_000;

  /** While waiting for room, how often a publisher looks whether the broker was closed. */
  private static final long CLOSE_CHECK_MILLIS = 50;

  private static final Duration WARNING_INTERVAL = Duration.ofSeconds(10);

  private static final System.Logger LOG = System.getLogger(InMemoryBroker.class.getName());

  /** An event to deliver; {@code room} says whether it holds a unit of {@link #room}. */
  private record Dispatch(HubEvent event, boolean room) {}

  private static final Dispatch STOP = new Dispatch(null, false);

  private final LinkedBlockingQueue<Dispatch> queue = new LinkedBlockingQueue<>();
  private final Semaphore room;
  private final Thread dispatcher;
  private final AtomicLong lastOverflowWarning = new AtomicLong(System.nanoTime());
  private volatile Consumer<HubEvent> receiver;
  private volatile boolean closed;

  /** A broker with room for {@value #DEFAULT_MAX_PENDING_EVENTS} waiting events. */
  public InMemoryBroker() {
    this(DEFAULT_MAX_PENDING_EVENTS);
  }

  /** A broker with room for {@code maxPendingEvents} waiting events. */
  public InMemoryBroker(int maxPendingEvents) {
    if (maxPendingEvents < 1) {
      throw new IllegalArgumentException(
          "maxPendingEvents: " + maxPendingEvents + " (expected: >= 1)");
    }
    this.room = new Semaphore(maxPendingEvents);
    this.dispatcher =
        Thread.ofPlatform().name("progress-hub-dispatch").daemon(true).start(this::dispatch);
  }

  @Override
  public void publish(HubEvent event) {
    Objects.requireNonNull(event, "event");
    if (receiver == null || closed) {
      return;
    }
    // The dispatcher waiting for room would wait for itself.
    boolean holdsRoom = Thread.currentThread() != dispatcher && awaitRoom();
    if (closed) {
      return; // closed while waiting: nothing more is delivered, as the contract says
    }
    queue.add(new Dispatch(event, holdsRoom));
  }

  /** Waits for room; false if there was none in time (the event goes over the bound) or closed. */
  private boolean awaitRoom() {
    if (room.tryAcquire()) {
      return true;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_FOR_ROOM_MILLIS);
    boolean interrupted = false;
    try {
      while (!closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          warnOverflow();
          return false;
        }
        try {
          if (room.tryAcquire(
              Math.min(left, TimeUnit.MILLISECONDS.toNanos(CLOSE_CHECK_MILLIS)),
              TimeUnit.NANOSECONDS)) {
            return true;
          }
        } catch (InterruptedException e) {
          interrupted = true; // an interrupt must not lose a durable event: finish, then restore
        }
      }
      return false;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void warnOverflow() {
    long last = lastOverflowWarning.get();
    long now = System.nanoTime();
    if (now - last >= WARNING_INTERVAL.toNanos() && lastOverflowWarning.compareAndSet(last, now)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "the dispatcher has not taken an event for "
              + MAX_WAIT_FOR_ROOM_MILLIS
              + " ms ({0} waiting): is a subscriber blocking?",
          queue.size());
    }
  }

  private void dispatch() {
    while (true) {
      Dispatch next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        continue; // only close() stops the dispatcher, after what was queued before it
      }
      if (next == STOP) {
        return;
      }
      if (next.room()) {
        room.release();
      }
      deliver(receiver, next.event());
    }
  }

  private static void deliver(Consumer<HubEvent> target, HubEvent event) {
    try {
      target.accept(event);
    } catch (Throwable e) {
      // Errors too: this one thread carries every event of the node.
      try {
        LOG.log(System.Logger.Level.ERROR, "receiver failed on " + event, e);
      } catch (Throwable ignored) {
        // out of memory even for the log line
      }
    }
  }

  /** How many events wait for the dispatcher now: a gauge for metrics. */
  public int pendingEvents() {
    return queue.size();
  }

  @Override
  public void subscribe(Consumer<HubEvent> receiver) {
    this.receiver = Objects.requireNonNull(receiver, "receiver");
  }

  /** Delivers what was published before, for up to 5 s, then stops; waiting publishers return. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(STOP);
    if (Thread.currentThread() == dispatcher) {
      return;
    }
    try {
      dispatcher.join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
