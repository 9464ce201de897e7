package io.progresshub.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.progresshub.core.Job;
import io.progresshub.protocol.JobState;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.protocol.WireCodec;
import java.nio.charset.StandardCharsets;

/**
 * Turns job states into wire bytes, once per event whatever the number of recipients: the hub hands
 * the same {@link Job} instance to every subscriber, so the last encoding is remembered by identity
 * and shared. A live WebSocket frame is encoded once into direct memory and each recipient gets a
 * retained view of it, which the socket writes without a copy. Replayed states (sent to one
 * subscriber) are encoded on demand.
 */
public final class JobEncodings {

  private final WireCodec codec;
  private Job lastWebSocketJob; // guarded by this
  private ByteBuf lastWebSocket; // guarded by this; holds one reference
  private volatile Encoded lastSse;

  private record Encoded(Job job, byte[] bytes) {}

  public JobEncodings(WireCodec codec) {
    this.codec = codec;
  }

  /** Releases the remembered frame; called once the server is closed. */
  public synchronized void close() {
    if (lastWebSocket != null) {
      lastWebSocket.release();
      lastWebSocket = null;
      lastWebSocketJob = null;
    }
  }

  public WireCodec codec() {
    return codec;
  }

  /**
   * A complete WebSocket text frame for a state; the caller owns the returned buffer (one
   * reference). Live states share one encoding across all recipients.
   */
  public ByteBuf webSocketFrame(Job job, boolean replay) {
    if (replay) {
      return Unpooled.wrappedBuffer(WebSocketFrames.text(json(job, true)));
    }
    synchronized (this) {
      if (lastWebSocketJob != job) {
        byte[] frame = WebSocketFrames.text(json(job, false));
        ByteBuf encoded = ByteBufAllocator.DEFAULT.directBuffer(frame.length);
        encoded.writeBytes(frame);
        if (lastWebSocket != null) {
          lastWebSocket.release(); // recipients still writing it hold their own references
        }
        lastWebSocket = encoded;
        lastWebSocketJob = job;
      }
      return lastWebSocket.retainedDuplicate();
    }
  }

  /** A complete SSE event ({@code id: seq}) for a state. */
  public byte[] sseEvent(Job job) {
    Encoded cached = lastSse;
    if (cached != null && cached.job() == job) {
      return cached.bytes();
    }
    byte[] event = sse(job.seq(), json(job, false));
    lastSse = new Encoded(job, event);
    return event;
  }

  public byte[] json(Job job, boolean replay) {
    return codec.encode(new ServerMessage.Progress(state(job), replay));
  }

  public static JobState state(Job job) {
    return new JobState(
        job.id(),
        job.seq(),
        job.status().wireName(),
        job.progress(),
        job.stage(),
        job.message(),
        job.etaSeconds(),
        job.elapsedSeconds(),
        job.updatedAt(),
        job.metadata(),
        job.result(),
        job.error());
  }

  private static byte[] sse(long seq, byte[] json) {
    byte[] head = ("id: " + seq + "\nevent: progress\ndata: ").getBytes(StandardCharsets.US_ASCII);
    byte[] event = new byte[head.length + json.length + 2];
    System.arraycopy(head, 0, event, 0, head.length);
    System.arraycopy(json, 0, event, head.length, json.length);
    event[event.length - 2] = '\n';
    event[event.length - 1] = '\n';
    return event;
  }
}
