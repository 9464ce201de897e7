package io.progresshub.server.internal.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;

/**
 * Reads a live job state's {@code timestamp} out of its encoded frame (WebSocket frame or SSE
 * event), so that a sampled write can be timed without the hub's time travelling with every
 * message. The state's fields come before its metadata, and a quote inside a JSON string is
 * escaped, so the first {@code "timestamp":"} is the state's own.
 */
final class FrameTimestamps {
  private static final ByteBuf KEY =
      Unpooled.unreleasableBuffer(
          Unpooled.copiedBuffer("\"timestamp\":\"", StandardCharsets.US_ASCII));
  private static final ByteBuf REPLAY =
      Unpooled.unreleasableBuffer(
          Unpooled.copiedBuffer("\"replay\":true", StandardCharsets.US_ASCII));

  /** Shortest timestamp: {@code 2026-01-31T12:00:00Z} (the codec drops a zero fraction). */
  private static final int SHORTEST = 20;

  private FrameTimestamps() {}

  /**
   * The state's timestamp in epoch milliseconds, or -1 when the frame has none or is a replayed
   * (old) state.
   */
  static long epochMillis(ByteBuf frame) {
    int key = ByteBufUtil.indexOf(KEY.duplicate(), frame);
    if (key < 0 || ByteBufUtil.indexOf(REPLAY.duplicate(), frame) >= 0) {
      return -1;
    }
    int at = key + KEY.readableBytes();
    if (frame.writerIndex() - at < SHORTEST) {
      return -1;
    }
    try {
      long day =
          LocalDate.of(digits(frame, at, 4), digits(frame, at + 5, 2), digits(frame, at + 8, 2))
              .toEpochDay();
      long millis =
          ((day * 24 + digits(frame, at + 11, 2)) * 60 + digits(frame, at + 14, 2)) * 60_000L
              + digits(frame, at + 17, 2) * 1000L;
      if (frame.getByte(at + 19) == '.' && frame.writerIndex() - at >= 23) {
        millis += digits(frame, at + 20, 3);
      }
      return millis;
    } catch (RuntimeException notATimestamp) {
      return -1;
    }
  }

  private static int digits(ByteBuf frame, int at, int count) {
    int value = 0;
    for (int i = 0; i < count; i++) {
      int digit = frame.getByte(at + i) - '0';
      if (digit < 0 || digit > 9) {
        throw new IllegalArgumentException("not a digit at " + (at + i));
      }
      value = value * 10 + digit;
    }
    return value;
  }
}
