package io.progresshub.server.internal.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.progresshub.protocol.CloseCode;
import io.progresshub.server.internal.WebSocketFrames;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * RFC 6455 framing for a connection without extensions, in one handler: it reads frames, checks
 * them, answers pings, runs the closing handshake and hands complete text and binary messages on as
 * {@link TextWebSocketFrame} / {@link BinaryWebSocketFrame}; on the way out it encodes frame
 * objects and lets ready-made frame bytes ({@link ByteBuf}, see {@link WebSocketFrames}) through.
 *
 * <p>It replaces the five handlers Netty's chain would install (decoder, encoder, UTF-8 validator,
 * protocol handler, aggregator): a connection holds one small object and no buffer while idle.
 * Connections that negotiate permessage-deflate keep Netty's chain (see {@link WebSocketUpgrade}).
 *
 * <p>Violations fail the connection with the close code the RFC asks for: 1002 for framing errors,
 * 1007 for text that is not UTF-8, 1009 for a frame or message over {@code maxMessageBytes}.
 */
public final class WebSocketFrameCodec extends ChannelDuplexHandler {
  private static final int OP_CONTINUATION = 0x0;
  private static final int OP_TEXT = 0x1;
  private static final int OP_BINARY = 0x2;
  private static final int OP_CLOSE = 0x8;
  private static final int OP_PING = 0x9;
  private static final int OP_PONG = 0xA;

  /**
   * Fired down the pipeline when this codec sent a close frame on its own (answering the client's,
   * or failing the connection): whoever writes frames past the pipeline must stop now.
   */
  static final Object CLOSE_SENT = new Object();

  /** The first header byte's final-fragment bit. */
  private static final int FIN = 0x80;

  /** The second header byte's mask bit: every client frame must have it. */
  private static final int MASKED = 0x80;

  /** How long to wait for the client's close frame after ours before dropping the connection. */
  private static final long CLOSE_TIMEOUT_MILLIS = 2_000;

  /** The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask key. */
  private static final int MAX_HEADER = 14;

  private final int maxMessageBytes;
  private final Duration frameTimeout; // the config's own instance, shared by every connection

  /**
   * Bytes of an incomplete frame, in a buffer of the frame's final size once its header is known
   * (so a trickled frame is copied once, not once per read); null between frames.
   */
  private ByteBuf partial;

  /** The fragments of a message not finished yet; null between messages. */
  private ByteBuf fragments;

  private boolean fragmentedText;

  /** When the frame or fragmented message in progress began ({@link System#nanoTime}). */
  private int incompleteSince; // milliseconds of nanoTime, wrapping: only differences count

  /** Whether a deadline check is scheduled: at most one per connection. */
  private boolean deadlineArmed;

  /**
   * The payload of the latest ping that arrived while the connection was not writable: only the
   * latest gets its pong (RFC 6455 section 5.5.3 allows it), once the client reads again.
   */
  private byte[] pendingPong;

  /** Set once we failed the connection: everything read afterwards is dropped. */
  private boolean failed;

  private boolean closeSent;

  public WebSocketFrameCodec(int maxMessageBytes, Duration frameTimeout) {
    this.maxMessageBytes = maxMessageBytes;
    this.frameTimeout = frameTimeout;
  }

  // ------------------------------------------------------------------ reading

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (!(message instanceof ByteBuf in)) {
      ctx.fireChannelRead(message);
      return;
    }
    try {
      if (failed) {
        return;
      }
      // A frame begun in an earlier read is finished first; if it is still not whole, all of
      // in went into it.
      if (partial == null || completePartial(ctx, in)) {
        while (!failed && in.isReadable() && readFrame(ctx, in)) {
          // one frame per round
        }
        if (!failed && in.isReadable()) {
          startPartial(ctx, in);
        }
      }
      checkDeadline(ctx);
    } finally {
      in.release();
    }
  }

  /**
   * Moves bytes of {@code in} into {@code partial} until it holds one whole frame, then reads that
   * frame; true once done (the rest of {@code in} is the next frames), false if it needs more.
   */
  private boolean completePartial(ChannelHandlerContext ctx, ByteBuf in) {
    while (true) {
      long needed = frameSize(ctx, partial);
      if (failed) {
        return false;
      }
      if (needed <= partial.readableBytes()) {
        break; // a whole frame
      }
      if (!in.isReadable()) {
        return false; // still incomplete
      }
      int wanted = (int) Math.min(needed - partial.readableBytes(), in.readableBytes());
      if (partial.writableBytes() < wanted) {
        // The header just became complete: move its few bytes into a buffer of the final size.
        ByteBuf sized = ctx.alloc().heapBuffer((int) needed);
        sized.writeBytes(partial);
        partial.release();
        partial = sized;
      }
      partial.writeBytes(in, wanted);
    }
    ByteBuf frame = partial;
    partial = null;
    try {
      readFrame(ctx, frame);
    } finally {
      frame.release();
    }
    return !failed;
  }

  /** Keeps the unread start of a frame: at most a header's worth, or the frame's whole size. */
  private void startPartial(ChannelHandlerContext ctx, ByteBuf in) {
    long size = frameSize(ctx, in);
    if (failed) {
      return;
    }
    int capacity = size > 0 ? (int) size : MAX_HEADER;
    partial = ctx.alloc().heapBuffer(capacity);
    partial.writeBytes(in);
    if (fragments == null) {
      incompleteSince = millis();
    }
  }

  /**
   * The whole size of the frame starting at {@code in}'s reader index, once its header is there;
   * until then the bytes needed to read the header. Fails the connection (and returns 0) on a
   * header that breaks the protocol or the size limit.
   */
  private long frameSize(ChannelHandlerContext ctx, ByteBuf in) {
    int available = in.readableBytes();
    if (available < 2) {
      return 2;
    }
    int start = in.readerIndex();
    int length7 = in.getUnsignedByte(start + 1) & 0x7F;
    int headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
    if (!checkHeader(ctx, in.getUnsignedByte(start), in.getUnsignedByte(start + 1))) {
      return 0;
    }
    if (available < headerLength) {
      return headerLength;
    }
    long length = payloadLength(ctx, in, start, length7);
    return length < 0 ? 0 : headerLength + length;
  }

  /** Checks the first two header bytes; fails the connection and returns false if they break it. */
  private boolean checkHeader(ChannelHandlerContext ctx, int b0, int b1) {
    boolean fin = (b0 & FIN) != 0;
    int opcode = b0 & 0x0F;
    int length7 = b1 & 0x7F;
    if ((b0 & 0x70) != 0) {
      return fail(ctx, CloseCode.PROTOCOL_ERROR, "RSV bits set, no extension negotiated");
    }
    if ((b1 & MASKED) == 0) {
      return fail(ctx, CloseCode.PROTOCOL_ERROR, "client frames must be masked");
    }
    if ((opcode & 0x8) != 0) {
      if (opcode != OP_CLOSE && opcode != OP_PING && opcode != OP_PONG) {
        return fail(ctx, CloseCode.PROTOCOL_ERROR, "unknown opcode " + opcode);
      }
      if (!fin) {
        return fail(ctx, CloseCode.PROTOCOL_ERROR, "fragmented control frame");
      }
      if (length7 > 125) {
        return fail(ctx, CloseCode.PROTOCOL_ERROR, "control frame longer than 125 bytes");
      }
    } else if (opcode != OP_CONTINUATION && opcode != OP_TEXT && opcode != OP_BINARY) {
      return fail(ctx, CloseCode.PROTOCOL_ERROR, "unknown opcode " + opcode);
    } else if (opcode == OP_CONTINUATION && fragments == null) {
      return fail(
          ctx, CloseCode.PROTOCOL_ERROR, "continuation frame without a message to continue");
    } else if (opcode != OP_CONTINUATION && fragments != null) {
      return fail(
          ctx, CloseCode.PROTOCOL_ERROR, "new message before the previous one was finished");
    }
    return true;
  }

  /** The payload length of a frame whose header is complete; -1 (failed) if over the limit. */
  private long payloadLength(ChannelHandlerContext ctx, ByteBuf in, int start, int length7) {
    long length;
    if (length7 == 126) {
      length = in.getUnsignedShort(start + 2);
    } else if (length7 == 127) {
      length = in.getLong(start + 2);
      if (length < 0) {
        fail(ctx, CloseCode.PROTOCOL_ERROR, "frame length out of range");
        return -1;
      }
    } else {
      length = length7;
    }
    boolean control = (in.getUnsignedByte(start) & 0x8) != 0;
    long messageLength = length + (control || fragments == null ? 0 : fragments.readableBytes());
    if (messageLength > maxMessageBytes) {
      fail(ctx, CloseCode.MESSAGE_TOO_BIG, "message larger than " + maxMessageBytes + " bytes");
      return -1;
    }
    return length;
  }

  /** Reads one whole frame if {@code in} holds it; false (nothing consumed) if it does not yet. */
  private boolean readFrame(ChannelHandlerContext ctx, ByteBuf in) {
    long size = frameSize(ctx, in);
    if (failed || size > in.readableBytes()) {
      return false;
    }
    int start = in.readerIndex();
    int b0 = in.getUnsignedByte(start);
    boolean fin = (b0 & FIN) != 0;
    int opcode = b0 & 0x0F;
    int length7 = in.getUnsignedByte(start + 1) & 0x7F;
    int headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
    int length = (int) (size - headerLength);
    int maskKey = in.getInt(start + headerLength - 4);
    in.readerIndex(start + headerLength);
    byte[] payload = new byte[length];
    in.readBytes(payload);
    unmask(payload, maskKey);

    if (closeSent && opcode != OP_CLOSE) {
      return true; // closing: only the client's close frame matters now
    }
    switch (opcode) {
      case OP_PING -> {
        pong(ctx, payload);
        return true;
      }
      case OP_PONG -> {
        return true;
      }
      case OP_CLOSE -> {
        onClose(ctx, payload);
        return true;
      }
      default -> {
        return onData(ctx, fin, opcode, payload);
      }
    }
  }

  /**
   * Answers a ping, or, while the client is not reading what we send, keeps only the latest ping to
   * answer later: a ping flood from a client that never reads must not queue a pong per ping.
   */
  private void pong(ChannelHandlerContext ctx, byte[] payload) {
    if (ctx.channel().isWritable() && pendingPong == null) {
      ctx.writeAndFlush(frame(FIN | OP_PONG, payload), ctx.voidPromise());
    } else {
      pendingPong = payload;
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (pendingPong != null && ctx.channel().isWritable() && !closeSent) {
      byte[] payload = pendingPong;
      pendingPong = null;
      ctx.writeAndFlush(frame(FIN | OP_PONG, payload), ctx.voidPromise());
    }
    ctx.fireChannelWritabilityChanged();
  }

  /**
   * Fails the connection with 1008 once a frame or a fragmented message has been incomplete for
   * longer than the frame timeout: a client trickling one byte at a time must not hold a buffer
   * (and keep the connection looking alive) for ever.
   */
  private void checkDeadline(ChannelHandlerContext ctx) {
    if (failed || (partial == null && fragments == null)) {
      return;
    }
    long late = (millis() - incompleteSince) - frameTimeout.toMillis();
    if (late >= 0) {
      fail(
          ctx,
          CloseCode.POLICY_VIOLATION,
          "frame or message not completed within the frame timeout");
    } else if (!deadlineArmed) {
      deadlineArmed = true;
      ctx.executor()
          .schedule(
              () -> {
                deadlineArmed = false;
                checkDeadline(ctx);
              },
              -late,
              TimeUnit.MILLISECONDS);
    }
  }

  /** A millisecond clock that fits an int: it wraps, so only differences of it mean anything. */
  private static int millis() {
    return (int) (System.nanoTime() / 1_000_000);
  }

  private boolean onData(ChannelHandlerContext ctx, boolean fin, int opcode, byte[] payload) {
    if (fin && fragments == null) {
      return deliver(ctx, opcode == OP_TEXT, payload);
    }
    if (fragments == null) {
      fragments =
          Unpooled.buffer(
              Math.min(maxMessageBytes, Math.max(payload.length * 2, 256)), maxMessageBytes);
      fragmentedText = opcode == OP_TEXT;
      incompleteSince = millis();
    }
    fragments.writeBytes(payload);
    if (!fin) {
      return true;
    }
    byte[] message = new byte[fragments.readableBytes()];
    fragments.readBytes(message);
    fragments.release();
    fragments = null;
    return deliver(ctx, fragmentedText, message);
  }

  private boolean deliver(ChannelHandlerContext ctx, boolean text, byte[] message) {
    if (text && !isUtf8(message)) {
      return fail(ctx, CloseCode.INVALID_PAYLOAD, "text message is not valid UTF-8");
    }
    ByteBuf content = Unpooled.wrappedBuffer(message);
    ctx.fireChannelRead(text ? new TextWebSocketFrame(content) : new BinaryWebSocketFrame(content));
    return true;
  }

  /** The client's close frame: answered with the same code, then the connection is closed. */
  private void onClose(ChannelHandlerContext ctx, byte[] payload) {
    if (payload.length == 1) {
      fail(ctx, CloseCode.PROTOCOL_ERROR, "close frame with a one-byte payload");
      return;
    }
    if (payload.length >= 2) {
      int code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
      if (!isValidCloseCode(code)) {
        fail(ctx, CloseCode.PROTOCOL_ERROR, "invalid close code " + code);
        return;
      }
      if (!isUtf8(payload, 2)) {
        fail(ctx, CloseCode.INVALID_PAYLOAD, "close reason is not valid UTF-8");
        return;
      }
    }
    failed = true; // nothing more is read
    if (closeSent) {
      ctx.close(); // the answer to our close frame
      return;
    }
    closeSent = true;
    ctx.fireUserEventTriggered(CLOSE_SENT);
    byte[] echo = payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0];
    ctx.writeAndFlush(frame(FIN | OP_CLOSE, echo)).addListener(ChannelFutureListener.CLOSE);
  }

  /** Sends close frame {@code code} with {@code reason} and drops the connection; false. */
  private boolean fail(ChannelHandlerContext ctx, CloseCode code, String reason) {
    failed = true;
    releaseBuffers();
    if (!closeSent) {
      closeSent = true;
      ctx.fireUserEventTriggered(CLOSE_SENT);
      ctx.writeAndFlush(closeFrame(code.code(), reason)).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
    return false;
  }

  static boolean isValidCloseCode(int code) {
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1011)
        || (code >= 3000 && code <= 4999);
  }

  private static void unmask(byte[] payload, int maskKey) {
    byte[] key = {
      (byte) (maskKey >>> 24), (byte) (maskKey >>> 16), (byte) (maskKey >>> 8), (byte) maskKey
    };
    for (int i = 0; i < payload.length; i++) {
      payload[i] ^= key[i & 3];
    }
  }

  private static boolean isUtf8(byte[] bytes) {
    return isUtf8(bytes, 0);
  }

  private static boolean isUtf8(byte[] bytes, int offset) {
    for (int i = offset; i < bytes.length; i++) {
      if (bytes[i] < 0) {
        try {
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, i, bytes.length - i));
          return true;
        } catch (CharacterCodingException e) {
          return false;
        }
      }
    }
    return true; // all ASCII: the common case, no decoder needed
  }

  // ------------------------------------------------------------------ writing

  @Override
  public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
    if (closeSent) {
      ReferenceCountUtil.release(message); // nothing may follow a close frame
      if (!promise.isVoid()) {
        promise.tryFailure(new IllegalStateException("close frame already sent"));
      }
      return;
    }
    if (message instanceof WebSocketFrame frame) {
      int opcode = opcode(frame);
      if (opcode == OP_CLOSE) {
        closeSent = true;
        // Wait a little for the client's answer; a client that never sends one is dropped.
        ctx.executor().schedule(() -> ctx.close(), CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      }
      ByteBuf encoded = encode(ctx, frame, opcode);
      ctx.write(encoded, promise);
      return;
    }
    ctx.write(message, promise);
  }

  private static int opcode(WebSocketFrame frame) {
    if (frame instanceof TextWebSocketFrame) {
      return OP_TEXT;
    } else if (frame instanceof BinaryWebSocketFrame) {
      return OP_BINARY;
    } else if (frame instanceof CloseWebSocketFrame) {
      return OP_CLOSE;
    } else if (frame instanceof PingWebSocketFrame) {
      return OP_PING;
    } else if (frame instanceof PongWebSocketFrame) {
      return OP_PONG;
    } else if (frame instanceof ContinuationWebSocketFrame) {
      return OP_CONTINUATION;
    }
    throw new IllegalArgumentException("unknown frame type " + frame.getClass().getName());
  }

  private static ByteBuf encode(ChannelHandlerContext ctx, WebSocketFrame frame, int opcode) {
    try {
      ByteBuf content = frame.content();
      int length = content.readableBytes();
      ByteBuf out = ctx.alloc().buffer(WebSocketFrames.headerLength(length) + length);
      WebSocketFrames.writeHeader(out, (frame.isFinalFragment() ? FIN : 0) | opcode, length);
      out.writeBytes(content, content.readerIndex(), length);
      return out;
    } finally {
      frame.release();
    }
  }

  private static ByteBuf frame(int firstByte, byte[] payload) {
    ByteBuf out = Unpooled.buffer(WebSocketFrames.headerLength(payload.length) + payload.length);
    WebSocketFrames.writeHeader(out, firstByte, payload.length);
    out.writeBytes(payload);
    return out;
  }

  private static ByteBuf closeFrame(int code, String reason) {
    byte[] text = reason.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[2 + Math.min(text.length, 123)];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(text, 0, payload, 2, payload.length - 2);
    return frame(FIN | OP_CLOSE, payload);
  }

  // ------------------------------------------------------------------ cleanup

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseBuffers();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseBuffers();
    ctx.fireChannelInactive();
  }

  private void releaseBuffers() {
    if (partial != null) {
      partial.release();
      partial = null;
    }
    if (fragments != null) {
      fragments.release();
      fragments = null;
    }
  }
}
