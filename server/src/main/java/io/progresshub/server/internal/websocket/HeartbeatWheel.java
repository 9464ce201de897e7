package io.progresshub.server.internal.websocket;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One timer for all WebSocket sessions of one event loop: every session is visited once per
 * heartbeat interval ({@link HeartbeatHandler#beat}) to send its heartbeat and check it for silence
 * and an expired token. Sessions are spread over {@value #SLOTS} slots and linked into them through
 * their own fields, so a connection costs no timer task, no idle handler and no list node of its
 * own.
 *
 * <p>A wheel belongs to its event loop: all its methods run there.
 */
public final class HeartbeatWheel {
  static final int SLOTS = 16;

  private final EventExecutor loop;
  private final long tickNanos;
  private final HeartbeatHandler[] slots = new HeartbeatHandler[SLOTS];
  private ScheduledFuture<?> timer;
  private int cursor;
  private long tick;

  HeartbeatWheel(EventExecutor loop, Duration interval) {
    this.loop = loop;
    this.tickNanos = Math.max(1, interval.toNanos() / SLOTS);
  }

  /** The wheel's clock: ticks since it started, {@value #SLOTS} per interval. */
  long tick() {
    return tick;
  }

  /** How many ticks make up {@code duration}, rounded up. */
  long ticks(Duration duration) {
    return (duration.toNanos() + tickNanos - 1) / tickNanos;
  }

  /** Adds {@code member}: its first beat comes one interval from now. */
  void add(HeartbeatHandler member) {
    assert loop.inEventLoop();
    if (member.slot >= 0) {
      return;
    }
    int slot = (cursor + SLOTS - 1) % SLOTS; // the slot visited last: its next visit is furthest
    member.slot = slot;
    member.previous = null;
    member.next = slots[slot];
    if (member.next != null) {
      member.next.previous = member;
    }
    slots[slot] = member;
    if (timer == null) {
      timer = loop.scheduleAtFixedRate(this::advance, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
    }
  }

  void remove(HeartbeatHandler member) {
    assert loop.inEventLoop();
    if (member.slot < 0) {
      return;
    }
    if (member.previous != null) {
      member.previous.next = member.next;
    } else {
      slots[member.slot] = member.next;
    }
    if (member.next != null) {
      member.next.previous = member.previous;
    }
    member.previous = null;
    member.next = null;
    member.slot = -1;
  }

  private void advance() {
    tick++;
    int slot = cursor;
    cursor = (cursor + 1) % SLOTS;
    long now = tick;
    visit(slots[slot], member -> member.beat(now));
  }

  private static void visit(HeartbeatHandler first, Consumer<HeartbeatHandler> action) {
    HeartbeatHandler member = first;
    while (member != null) {
      HeartbeatHandler next = member.next; // the action may unlink the member
      action.accept(member);
      member = next;
    }
  }
}
