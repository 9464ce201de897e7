package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.progresshub.server.internal.websocket.WebSocketFrameCodec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fuzzes {@link WebSocketFrameCodec}, which reads every byte a WebSocket client sends before any
 * other check. It runs in an {@link EmbeddedChannel} fed the fuzzer's bytes in chunks of varying
 * size (as TCP may cut them), and checks after every chunk:
 *
 * <ul>
 *   <li>no exception escapes the pipeline;
 *   <li>every input buffer is released, and the codec holds at most {@link #BUFFER_BOUND} bytes
 *       between reads (measured on the allocators, so it holds whatever the codec's buffering);
 *   <li>what comes out is well-formed: delivered messages are text (valid UTF-8) or binary within
 *       the limit, server frames are unmasked pongs or close frames, nothing follows a close frame,
 *       and a close frame carries no code or one RFC 6455 allows on the wire;
 *   <li>the connection is never dropped without a close frame.
 * </ul>
 *
 * <p>{@link #validFramesAreDeliveredIntact} also builds valid traffic (fragmented messages with
 * pings between fragments, cut at arbitrary points) and checks that it arrives exactly as sent.
 *
 * <p>Inputs of {@link #arbitraryBytesNeverEscapeOrOverBuffer}: the wire bytes, then one byte that
 * chooses how they are cut (0: one chunk, else chunks of 1 to that many bytes). The normal build
 * runs the inputs under {@code WebSocketFrameCodecFuzzTestInputs/}; docs/fuzzing.md says how to
 * fuzz for longer.
 */
class WebSocketFrameCodecFuzzTest {
  /** Small, so that fuzzed inputs (a few KiB at most) reach the limit; production uses 64 KiB. */
  static final int MAX_MESSAGE_BYTES = 1024;

  /**
   * What the codec may hold between reads: an incomplete frame (header and payload) and the
   * fragments of an unfinished message, each within the limit, plus buffer slack up to twice that.
   */
  static final long BUFFER_BOUND = 2L * MAX_MESSAGE_BYTES + 512;

  private static final int OP_CONTINUATION = 0x0;
  private static final int OP_TEXT = 0x1;
  private static final int OP_BINARY = 0x2;
  private static final int OP_CLOSE = 0x8;
  private static final int OP_PING = 0x9;
  private static final int OP_PONG = 0xA;

  @FuzzTest
  void arbitraryBytesNeverEscapeOrOverBuffer(FuzzedDataProvider data) {
    int cut = data.consumeInt(0, 255);
    byte[] wire = data.consumeRemainingAsBytes();
    try (Harness harness = new Harness()) {
      harness.feed(wire, cut);
      harness.checkCloseFrames();
    }
  }

  /**
   * Valid client traffic built from the input: text and binary messages, each in 1 to 4 fragments
   * (some empty), with pings and unsolicited pongs between frames.
   */
  @FuzzTest
  void validFramesAreDeliveredIntact(FuzzedDataProvider data) {
    int cut = data.consumeInt(0, 255);
    SplittableRandom masks = new SplittableRandom(data.consumeLong());
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    List<Event> expected = new ArrayList<>();
    while (data.remainingBytes() > 0 && expected.size() < 64) {
      switch (data.consumeInt(0, 3)) {
        case 0, 1 -> {
          boolean text = data.consumeBoolean();
          byte[] message =
              text
                  ? data.consumeString(300).getBytes(StandardCharsets.UTF_8)
                  : data.consumeBytes(300);
          int fragments = data.consumeInt(1, 4);
          int from = 0;
          for (int i = 0; i < fragments; i++) {
            boolean last = i == fragments - 1;
            int to = last ? message.length : data.consumeInt(from, message.length);
            int opcode = i == 0 ? (text ? OP_TEXT : OP_BINARY) : OP_CONTINUATION;
            writeFrame(wire, last, opcode, Arrays.copyOfRange(message, from, to), masks);
            from = to;
            if (!last && data.consumeBoolean()) {
              byte[] ping = data.consumeBytes(125);
              writeFrame(wire, true, OP_PING, ping, masks);
              expected.add(new Event(Event.PONG, ping));
            }
          }
          expected.add(new Event(text ? Event.TEXT : Event.BINARY, message));
        }
        case 2 -> {
          byte[] ping = data.consumeBytes(125);
          writeFrame(wire, true, OP_PING, ping, masks);
          expected.add(new Event(Event.PONG, ping));
        }
        default -> writeFrame(wire, true, OP_PONG, data.consumeBytes(125), masks);
      }
    }
    try (Harness harness = new Harness()) {
      harness.feed(wire.toByteArray(), cut);
      assertThat(harness.channel.isOpen()).as("channel open after valid traffic").isTrue();
      // Pongs and messages are separate streams: check the order within each.
      assertThat(harness.events.stream().filter(e -> e.kind != Event.PONG).toList())
          .containsExactlyElementsOf(expected.stream().filter(e -> e.kind != Event.PONG).toList());
      assertThat(harness.events.stream().filter(e -> e.kind == Event.PONG).toList())
          .containsExactlyElementsOf(expected.stream().filter(e -> e.kind == Event.PONG).toList());
    }
  }

  /** A masked client frame, as RFC 6455 requires of every frame a client sends. */
  static void writeFrame(
      ByteArrayOutputStream out, boolean fin, int opcode, byte[] payload, SplittableRandom masks) {
    out.write((fin ? 0x80 : 0) | opcode);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else if (payload.length <= 0xFFFF) {
      out.write(0x80 | 126);
      out.write(payload.length >>> 8);
      out.write(payload.length);
    } else {
      out.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        out.write((int) ((long) payload.length >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    masks.nextBytes(mask);
    out.write(mask, 0, 4);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i & 3]);
    }
  }

  /** Something the codec did: delivered a message, or wrote a frame to the client. */
  record Event(int kind, byte[] payload) {
    static final int TEXT = 1;
    static final int BINARY = 2;
    static final int PONG = 3;
    static final int CLOSE = 4;

    @Override
    public boolean equals(Object other) {
      return other instanceof Event e && e.kind == kind && Arrays.equals(e.payload, payload);
    }

    @Override
    public int hashCode() {
      return kind * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
      return "Event[" + kind + ", " + ByteBufUtil.hexDump(payload) + "]";
    }
  }

  /**
   * The codec in an embedded channel, between a recorder of the frames it writes and a sink for the
   * messages it delivers; both append to {@link #events} in the order they happen.
   */
  static final class Harness implements AutoCloseable {
    final EmbeddedChannel channel = new EmbeddedChannel();
    final List<Event> events = new ArrayList<>();
    private final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false);

    /** Input chunks: counted too, in case the codec keeps (part of) one instead of copying it. */
    private final UnpooledByteBufAllocator inputs = new UnpooledByteBufAllocator(false);

    /**
     * The codec may also allocate with {@link Unpooled}: its shared allocator is measured as a
     * difference, which assumes no other thread uses it meanwhile (true in this test JVM).
     */
    private final long unpooledBaseline;

    private boolean closeWritten;

    Harness() {
      channel.config().setAllocator(alloc);
      channel
          .pipeline()
          .addLast(
              "recorder",
              new ChannelOutboundHandlerAdapter() {
                @Override
                public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                  assertThat(msg).as("what the codec writes").isInstanceOf(ByteBuf.class);
                  recordServerFrame((ByteBuf) msg);
                  ctx.write(msg, promise);
                }
              });
      channel
          .pipeline()
          .addLast(
              "codec",
              new WebSocketFrameCodec(MAX_MESSAGE_BYTES, java.time.Duration.ofSeconds(10)));
      channel
          .pipeline()
          .addLast(
              "sink",
              new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  try {
                    recordMessage(msg);
                  } finally {
                    ReferenceCountUtil.release(msg);
                  }
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                  ReferenceCountUtil.release(event);
                }
              });
      unpooledBaseline = UnpooledByteBufAllocator.DEFAULT.metric().usedHeapMemory();
    }

    /** Feeds {@code wire} in chunks chosen by {@code cut}; stops once the channel is closed. */
    void feed(byte[] wire, int cut) {
      SplittableRandom sizes = new SplittableRandom(cut);
      int offset = 0;
      while (offset < wire.length && channel.isOpen()) {
        int size = cut == 0 ? wire.length : Math.min(1 + sizes.nextInt(cut), wire.length - offset);
        ByteBuf chunk = inputs.heapBuffer(size).writeBytes(wire, offset, size);
        offset += size;
        channel.writeInbound(chunk); // rethrows anything that reached the end of the pipeline
        releaseOutbound();
        assertThat(held())
            .as("bytes held by the codec after %d of %d bytes", offset, wire.length)
            .isLessThanOrEqualTo(BUFFER_BOUND);
      }
      channel.runPendingTasks();
      releaseOutbound();
      if (!channel.isOpen()) {
        assertThat(closeWritten).as("a close frame before the connection was dropped").isTrue();
      }
    }

    void checkCloseFrames() {
      List<Event> closes = events.stream().filter(e -> e.kind == Event.CLOSE).toList();
      assertThat(closes).as("close frames sent").hasSizeLessThanOrEqualTo(1);
      if (!closes.isEmpty()) {
        assertThat(events.getLast()).as("nothing after the close frame").isEqualTo(closes.get(0));
      }
    }

    private long held() {
      return alloc.metric().usedHeapMemory()
          + alloc.metric().usedDirectMemory()
          + inputs.metric().usedHeapMemory()
          + UnpooledByteBufAllocator.DEFAULT.metric().usedHeapMemory()
          - unpooledBaseline;
    }

    private void releaseOutbound() {
      for (Object out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
        ReferenceCountUtil.release(out);
      }
    }

    private void recordMessage(Object msg) {
      assertThat(closeWritten).as("a message delivered after the close frame").isFalse();
      byte[] payload;
      int kind;
      if (msg instanceof TextWebSocketFrame text) {
        payload = ByteBufUtil.getBytes(text.content());
        assertThat(isUtf8(payload)).as("delivered text is UTF-8").isTrue();
        kind = Event.TEXT;
      } else if (msg instanceof BinaryWebSocketFrame binary) {
        payload = ByteBufUtil.getBytes(binary.content());
        kind = Event.BINARY;
      } else {
        throw new AssertionError("codec delivered " + msg);
      }
      assertThat(payload.length).isLessThanOrEqualTo(MAX_MESSAGE_BYTES);
      events.add(new Event(kind, payload));
    }

    /** Parses one server frame: unmasked, final, a pong or a close frame with a valid payload. */
    private void recordServerFrame(ByteBuf frame) {
      assertThat(closeWritten).as("a frame written after the close frame").isFalse();
      int start = frame.readerIndex();
      int b0 = frame.getUnsignedByte(start);
      int b1 = frame.getUnsignedByte(start + 1);
      assertThat(b0 & 0xF0).as("FIN set, no RSV bits").isEqualTo(0x80);
      assertThat(b1 & 0x80).as("server frames are not masked").isZero();
      int opcode = b0 & 0x0F;
      int length = b1 & 0x7F;
      assertThat(length).as("control frame payload").isLessThanOrEqualTo(125);
      assertThat(frame.readableBytes()).isEqualTo(2 + length);
      byte[] payload = ByteBufUtil.getBytes(frame, start + 2, length);
      if (opcode == OP_PONG) {
        events.add(new Event(Event.PONG, payload));
        return;
      }
      assertThat(opcode).as("server frame opcode").isEqualTo(OP_CLOSE);
      closeWritten = true;
      assertThat(payload.length).as("close payload").isNotEqualTo(1);
      if (payload.length >= 2) {
        int code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        assertThat(WebSocketFrameCodecFuzzTest.isValidCloseCode(code))
            .as("close code %d may be sent", code)
            .isTrue();
        assertThat(isUtf8(Arrays.copyOfRange(payload, 2, payload.length)))
            .as("close reason is UTF-8")
            .isTrue();
      }
      events.add(new Event(Event.CLOSE, payload));
    }

    @Override
    public void close() {
      channel.finishAndReleaseAll();
      assertThat(held()).as("bytes held after the connection closed").isZero();
    }
  }

  /** The codes RFC 6455 (7.4) lets an endpoint put in a close frame. */
  static boolean isValidCloseCode(int code) {
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1011)
        || (code >= 3000 && code <= 4999);
  }

  static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }
}
