package io.progresshub.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Function;

/**
 * One connection's ordered outbound queue. Any thread may {@link #send}; writes happen on the
 * channel's event loop, all messages queued within one loop tick go out with one flush.
 *
 * <p>When the socket cannot keep up (the channel is not writable), progress ticks are conflated per
 * job, latest wins; transitions and terminal states are always written, and a newer message for a
 * job drops that job's pending tick, so no job's states are ever reordered. Past {@code
 * maxPendingBytes} queued in the socket buffer the connection is handed to {@code onOverflow}.
 */
final class Outbox {

  /** One outbound message; {@code jobId} is null for messages not about a job. */
  record Message(String jobId, boolean conflatable, byte[] bytes) {}

  /** Queued by {@link #close}: everything before it is written, then the final frame. */
  private static final Message END = new Message(null, false, new byte[0]);

  private static final AtomicIntegerFieldUpdater<Outbox> SCHEDULED =
      AtomicIntegerFieldUpdater.newUpdater(Outbox.class, "scheduled");

  private final Channel channel;
  private final Function<byte[], Object> wrap;
  private final long maxPendingBytes;
  private final Runnable onOverflow;
  private final Queue<Message> queue = new ConcurrentLinkedQueue<>();
  private final Runnable drainTask = this::drain;
  private volatile int scheduled;
  private volatile Object finalFrame;
  private volatile boolean closed;

  /**
   * Past the limit: nothing more is written but the close frame. Writing later states after
   * dropping earlier ones would leave a gap that a resume with {@code since} could never fill.
   */
  private volatile boolean overflowed;

  /** Ticks held back while the channel is not writable; event loop only, created on demand. */
  private Map<String, Message> conflated;

  Outbox(
      Channel channel, Function<byte[], Object> wrap, long maxPendingBytes, Runnable onOverflow) {
    this.channel = channel;
    this.wrap = wrap;
    this.maxPendingBytes = maxPendingBytes;
    this.onOverflow = onOverflow;
  }

  void send(Message message) {
    if (closed || overflowed) {
      return;
    }
    queue.offer(message);
    if (SCHEDULED.compareAndSet(this, 0, 1)) {
      channel.eventLoop().execute(drainTask);
    }
  }

  void send(byte[] bytes) {
    send(new Message(null, false, bytes));
  }

  /**
   * Writes {@code frame} (a close frame) after every message queued so far, and nothing after it. A
   * write behind a WebSocket close frame fails, and Netty answers that failure by dropping the
   * connection at once, losing the close frame and whatever was still queued before it.
   */
  void close(Object frame) {
    finalFrame = frame;
    queue.offer(END);
    if (SCHEDULED.compareAndSet(this, 0, 1)) {
      channel.eventLoop().execute(drainTask);
    }
  }

  private void drain() {
    SCHEDULED.set(this, 0);
    boolean wrote = false;
    Message message;
    while ((message = queue.poll()) != null) {
      if (closed || !channel.isActive()) {
        queue.clear();
        return;
      }
      if (message == END) {
        closed = true;
        queue.clear();
        conflated = null;
        channel.writeAndFlush(finalFrame, channel.voidPromise());
        return;
      }
      if (overflowed) {
        continue;
      }
      if (message.conflatable() && !channel.isWritable()) {
        if (conflated == null) {
          conflated = new HashMap<>();
        }
        conflated.put(message.jobId(), message);
        continue;
      }
      if (message.jobId() != null && conflated != null) {
        conflated.remove(message.jobId()); // superseded by this newer state of the same job
      }
      channel.write(wrap.apply(message.bytes()), channel.voidPromise());
      wrote = true;
    }
    if (wrote) {
      channel.flush();
      checkOverflow();
    }
  }

  /** Called when the channel became writable again: send the ticks held back. */
  void writabilityChanged() {
    if (closed || overflowed || conflated == null || conflated.isEmpty() || !channel.isWritable()) {
      return;
    }
    Iterator<Message> held = conflated.values().iterator();
    while (held.hasNext() && channel.isWritable()) {
      channel.write(wrap.apply(held.next().bytes()), channel.voidPromise());
      held.remove();
    }
    channel.flush();
  }

  private void checkOverflow() {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    if (!overflowed && buffer != null && buffer.totalPendingWriteBytes() > maxPendingBytes) {
      overflowed = true;
      queue.clear();
      conflated = null;
      onOverflow.run();
    }
  }

  static Object webSocket(byte[] frame) {
    return Unpooled.wrappedBuffer(frame);
  }
}
