package io.progresshub.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.progresshub.server.LimitsConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One connection's ordered outbound stream. Any thread may {@link #send}; messages go through the
 * event loop's {@link LoopWrites}, which writes them on the loop and flushes the connection once
 * per batch.
 *
 * <p>When the socket cannot keep up (the channel is not writable), progress ticks are conflated per
 * job, latest wins; transitions and terminal states are always written, and a newer message for a
 * job drops that job's pending tick, so no job's states are ever reordered.
 *
 * <p>A connection whose queue stays over the outbound limit for longer than {@link
 * #OVER_LIMIT_GRACE_NANOS}, or goes over {@value #HARD_LIMIT_FACTOR} times that at any moment, is
 * handed to {@code onOverflow} (close 4008). The grace lets a fast client take a replay bigger than
 * the limit (a resume after a long absence) without being mistaken for a slow one.
 *
 * <p>Messages carry reference-counted buffers: a message is either written (Netty releases it) or
 * released here, never both.
 */
public final class Outbox {

  /**
   * Who sent a message about a job: a subscription, which may have ended between sending and
   * writing. Asked on the event loop, where subscriptions end, so nothing a subscription sent is
   * written after the loop ended it (the client's {@code unsubscribed} comes last).
   */
  public interface Source {
    /** Whether messages from this source may still be written; event loop only. */
    boolean live();
  }

  /**
   * One outbound message for {@code outbox}: a complete frame, or (when {@code frame} is null) the
   * end of the stream. {@code jobId} is null for messages not about a job; {@code source} is null
   * for messages that are written whoever sent them.
   */
  public record Message(
      Outbox outbox, String jobId, boolean conflatable, ByteBuf frame, Source source) {
    void release() {
      if (frame != null) {
        frame.release();
      }
    }
  }

  public static final long OVER_LIMIT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

  public static final int HARD_LIMIT_FACTOR = 4;

  /**
   * How long a connection has to answer (or, overflowed, to take) our close frame before it is
   * dropped.
   */
  public static final long CLOSE_GRACE_MILLIS = 2_000;

  private final Channel channel;

  /**
   * True for WebSocket frames: they are complete wire bytes already, so they go straight into the
   * socket's outbound buffer, past the pipeline's handlers (none of which has anything to add to a
   * ready-made frame). Otherwise (SSE) each message is wrapped into an HTTP chunk.
   */
  private final boolean rawFrames;

  /** The socket's buffer is behind the TLS handler, which must encrypt every frame. */
  private final boolean overTls;

  /** The outbound limit and the stall timeout: shared by every connection, not copied into each. */
  private final LimitsConfig limits;

  private final Runnable onOverflow;
  private final LoopWrites writes;

  /** Set by {@link LoopWrites} while this outbox waits for its flush; event loop only. */
  boolean pendingFlush;

  private volatile boolean closed;
  private Object finalFrame; // handed over with the end message
  private boolean closeAfterFinal;

  /**
   * Past the limit: nothing more is written but the final frame. Writing later states after
   * dropping earlier ones would leave a gap that a resume with {@code since} could never fill.
   */
  private volatile boolean overflowed;

  /** When the queue went over the outbound limit ({@link System#nanoTime}), 0 if under. */
  private long overLimitSince;

  /** Threads waiting (in {@link #awaitDrained}) for the channel to become writable; loop only. */
  private List<CompletableFuture<Boolean>> drainWaiters;

  /**
   * When the channel became unwritable, in wrapping milliseconds of {@link System#nanoTime} (an
   * int: every connection has one), if {@code unwritable}.
   */
  private int unwritableSince;

  private boolean unwritable;

  private boolean stallCheckArmed;

  /**
   * What must precede the first message (an SSE stream's response head), until written; event loop
   * only once the outbox is in use.
   */
  private Object head;

  /**
   * Messages written so far, for the access log; event loop only. An int, read unsigned: it fills
   * the object's alignment gap, where a long would add 8 bytes to every connection.
   */
  private int written;

  /** Ticks held back while the channel is not writable; event loop only, created on demand. */
  private Map<String, Message> conflated;

  private Outbox(
      Channel channel,
      boolean rawFrames,
      LimitsConfig limits,
      Runnable onOverflow,
      LoopWrites writes) {
    this.channel = channel;
    this.rawFrames = rawFrames;
    this.overTls = channel.pipeline().get(ServerInitializer.TLS) != null;
    this.limits = limits;
    this.onOverflow = onOverflow;
    this.writes = writes;
  }

  /** An outbox of complete WebSocket frames for {@code channel}. */
  public static Outbox webSocket(
      Channel channel, LimitsConfig limits, Runnable onOverflow, LoopWrites writes) {
    return new Outbox(channel, true, limits, onOverflow, writes);
  }

  /**
   * An outbox of SSE events for {@code channel}, each sent as one HTTP chunk, the first preceded by
   * {@code head} (the response head): nothing reaches the client before the stream has something to
   * say, so a client that sees the head is already subscribed.
   */
  public static Outbox sse(
      Channel channel, LimitsConfig limits, Runnable onOverflow, LoopWrites writes, Object head) {
    Outbox outbox = new Outbox(channel, false, limits, onOverflow, writes);
    outbox.head = head;
    return outbox;
  }

  /** Queues {@code frame} (this outbox now owns it) for job {@code jobId}, or for none if null. */
  public void send(String jobId, boolean conflatable, ByteBuf frame) {
    send(jobId, conflatable, frame, null);
  }

  /** Queues {@code frame}, to be written only if {@code source} is still live by then. */
  public void send(String jobId, boolean conflatable, ByteBuf frame, Source source) {
    if (closed || overflowed) {
      frame.release();
      return;
    }
    writes.add(new Message(this, jobId, conflatable, frame, source));
  }

  public void send(byte[] bytes) {
    send(null, false, Unpooled.wrappedBuffer(bytes));
  }

  public void send(byte[] bytes, Source source) {
    send(null, false, Unpooled.wrappedBuffer(bytes), source);
  }

  /**
   * Writes {@code frame} (a close frame, or the end of a stream) after every message queued so far,
   * and nothing after it; then closes the channel if {@code closeChannel}. A write behind a
   * WebSocket close frame fails, and Netty answers that failure by dropping the connection at once,
   * losing the close frame and whatever was still queued before it.
   */
  public void close(Object frame, boolean closeChannel) {
    synchronized (this) {
      if (finalFrame != null) {
        ReferenceCountUtil.release(frame); // already closing
        return;
      }
      finalFrame = frame;
      closeAfterFinal = closeChannel;
    }
    writes.add(new Message(this, null, false, null, null));
  }

  /** Writes {@code message} without flushing; true if its frame was written. Event loop only. */
  public boolean write(Message message) {
    if (message.frame() == null) {
      writeFinal();
      return false;
    }
    if (closed || overflowed || !channel.isActive()) {
      writes.dropped++;
      message.release();
      return false;
    }
    if (!live(message)) {
      message.release(); // its subscription ended: nobody waits for it
      return false;
    }
    if (message.conflatable() && !channel.isWritable()) {
      if (conflated == null) {
        conflated = new HashMap<>();
      }
      Message replaced = conflated.put(message.jobId(), message);
      if (replaced != null) {
        writes.conflated++;
        replaced.release();
      }
      return false;
    }
    writeHead();
    if (message.jobId() != null && conflated != null) {
      Message superseded = conflated.remove(message.jobId()); // a newer state of the same job
      if (superseded != null) {
        writes.conflated++;
        superseded.release();
      }
    }
    writeFrame(message.frame());
    written++;
    return true; // LoopWrites counts the delivery
  }

  /** Messages written into the connection so far (modulo 2^32); event loop only. */
  public long written() {
    return Integer.toUnsignedLong(written);
  }

  private void writeFinal() {
    if (closed) {
      return;
    }
    closed = true;
    releaseConflated();
    wakeDrainWaiters(false);
    Object frame;
    boolean closeChannel;
    synchronized (this) {
      frame = finalFrame;
      closeChannel = closeAfterFinal;
    }
    if (!channel.isActive()) {
      ReferenceCountUtil.release(frame);
      return;
    }
    writeHead();
    if (closeChannel) {
      channel.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    } else {
      // A client that never answers our close frame is dropped a little after it was sent (the
      // lean codec does this too; Netty's chain does not).
      channel
          .writeAndFlush(frame)
          .addListener(
              sent ->
                  channel
                      .eventLoop()
                      .schedule(() -> channel.close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS));
    }
  }

  private void writeHead() {
    if (head != null) {
      Object first = head;
      head = null;
      channel.write(first);
    }
  }

  /** Nothing more goes out (the channel closed, or a close frame went): releases what is held. */
  public void discard() {
    closed = true;
    releaseConflated();
    wakeDrainWaiters(false);
  }

  /**
   * Blocks a thread other than the event loop until everything sent so far has been written into
   * the channel and the channel is writable, so that a producer of many messages (a replay) goes at
   * the client's pace. False once nothing more will go out, or after the stall timeout.
   */
  public boolean awaitDrained() {
    if (closed || overflowed) {
      return false;
    }
    CompletableFuture<Boolean> drained = new CompletableFuture<>();
    try {
      // Queued behind the write task that holds what was sent so far: it runs after it.
      channel
          .eventLoop()
          .execute(
              () -> {
                if (closed || overflowed || !channel.isActive()) {
                  drained.complete(false);
                } else if (channel.isWritable()) {
                  drained.complete(true);
                } else {
                  if (drainWaiters == null) {
                    drainWaiters = new ArrayList<>(1);
                  }
                  drainWaiters.add(drained);
                }
              });
      return drained.get(stallTimeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (RejectedExecutionException | ExecutionException | TimeoutException e) {
      return false;
    }
  }

  private void wakeDrainWaiters(boolean writable) {
    if (drainWaiters != null) {
      List<CompletableFuture<Boolean>> waiters = drainWaiters;
      drainWaiters = null;
      waiters.forEach(waiter -> waiter.complete(writable));
    }
  }

  /** Called by {@link LoopWrites} after a batch wrote to this connection. */
  public void flush() {
    flushChannel();
    checkOverflow();
  }

  private void writeFrame(ByteBuf frame) {
    if (rawFrames && overTls) {
      channel.write(frame, channel.voidPromise());
    } else if (rawFrames) {
      channel.unsafe().write(frame, channel.voidPromise());
    } else {
      channel.write(new DefaultHttpContent(frame), channel.voidPromise());
    }
  }

  private void flushChannel() {
    if (rawFrames && !overTls) {
      channel.unsafe().flush();
    } else {
      channel.flush();
    }
  }

  /**
   * Called when the channel's writability changed. Unwritable: the stall clock starts. Writable
   * again: the ticks held back are sent.
   */
  public void writabilityChanged() {
    if (!channel.isWritable()) {
      becameUnwritable();
      return;
    }
    unwritable = false;
    overLimitSince = 0; // it drained below the low-water mark: the client is keeping up
    wakeDrainWaiters(!closed && !overflowed);
    if (closed || overflowed || conflated == null || conflated.isEmpty() || !channel.isWritable()) {
      return;
    }
    Iterator<Message> held = conflated.values().iterator();
    while (held.hasNext() && channel.isWritable()) {
      Message message = held.next();
      held.remove();
      if (live(message)) {
        writeFrame(message.frame());
        written++;
        writes.deliveries++;
      } else {
        message.release();
      }
    }
    flushChannel();
  }

  private static boolean live(Message message) {
    return message.source() == null || message.source().live();
  }

  private void becameUnwritable() {
    if (closed || overflowed) {
      return;
    }
    if (!unwritable) {
      unwritable = true;
      unwritableSince = millis();
    }
    checkOverflow(); // bytes written past the pipeline (pongs, close frames) count too
    if (!stallCheckArmed && !overflowed) {
      stallCheckArmed = true;
      channel.eventLoop().schedule(this::checkStall, stallTimeoutMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void checkStall() {
    stallCheckArmed = false;
    if (closed || overflowed || !unwritable || channel.isWritable()) {
      return;
    }
    long left = stallTimeoutMillis() - (millis() - unwritableSince);
    if (left > 0) {
      stallCheckArmed = true;
      channel.eventLoop().schedule(this::checkStall, left, TimeUnit.MILLISECONDS);
      return;
    }
    overflow();
  }

  /**
   * Hands the connection to {@code onOverflow} (a close frame, or the end of the stream), and drops
   * it outright if it is still open a little later: a client that does not read will not read the
   * close frame either, and not every WebSocket chain gives up on it by itself.
   */
  private void overflow() {
    overflowed = true;
    writes.overflows++;
    releaseConflated();
    wakeDrainWaiters(false);
    onOverflow.run();
    channel.eventLoop().schedule(() -> channel.close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * How long the channel may stay unwritable, whatever it holds: a client that does not read while
   * it keeps the connection open (or keeps sending) is stalled, not slow.
   */
  private long stallTimeoutMillis() {
    return limits.stallTimeout().toMillis();
  }

  /** A millisecond clock that fits an int: it wraps, so only differences of it mean anything. */
  private static int millis() {
    return (int) (System.nanoTime() / 1_000_000);
  }

  private void checkOverflow() {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    if (overflowed || buffer == null) {
      return;
    }
    long pending = buffer.totalPendingWriteBytes();
    long maxPendingBytes = limits.maxOutboundBytes();
    if (pending <= maxPendingBytes) {
      overLimitSince = 0;
      return;
    }
    long now = System.nanoTime();
    if (overLimitSince == 0) {
      overLimitSince = now;
    }
    if (pending > HARD_LIMIT_FACTOR * maxPendingBytes
        || now - overLimitSince > OVER_LIMIT_GRACE_NANOS) {
      overflow();
    }
  }

  private void releaseConflated() {
    if (conflated != null) {
      writes.dropped += conflated.size();
      conflated.values().forEach(Message::release);
      conflated = null;
    }
  }
}
