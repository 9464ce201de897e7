package io.progresshub.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Encodes server-to-client WebSocket frames ourselves (RFC 6455 section 5.2; server frames are
 * never masked), so one encoded frame can be written to many connections without a copy each.
 */
public final class WebSocketFrames {
  private static final int FIN_TEXT = 0x81;

  private WebSocketFrames() {}

  /** A single, final, uncompressed text frame carrying {@code payload}. */
  public static byte[] text(byte[] payload) {
    byte[] frame = new byte[headerLength(payload.length) + payload.length];
    ByteBuf out = Unpooled.wrappedBuffer(frame).clear();
    writeHeader(out, FIN_TEXT, payload.length);
    out.writeBytes(payload);
    return frame;
  }

  /** The length of an unmasked frame header for a payload of {@code length} bytes. */
  public static int headerLength(int length) {
    return length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
  }

  /** Writes an unmasked frame header: {@code firstByte} is FIN, RSV and the opcode. */
  public static void writeHeader(ByteBuf out, int firstByte, int length) {
    out.writeByte(firstByte);
    if (length < 126) {
      out.writeByte(length);
    } else if (length <= 0xFFFF) {
      out.writeByte(126);
      out.writeShort(length);
    } else {
      out.writeByte(127);
      out.writeLong(length);
    }
  }
}
