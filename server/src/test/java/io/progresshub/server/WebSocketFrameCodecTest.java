package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.progresshub.server.internal.websocket.WebSocketFrameCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The lean frame codec's buffering, read by read, on an embedded channel. */
class WebSocketFrameCodecTest {

  /** Counts the bytes of every buffer the codec asks for. */
  private static final class CountingAllocator extends AbstractByteBufAllocator {
    long allocatedBytes;

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      allocatedBytes += initialCapacity;
      return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      allocatedBytes += initialCapacity;
      return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  private static EmbeddedChannel channel(CountingAllocator allocator) {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.config().setAllocator(allocator);
    channel.pipeline().addLast(new WebSocketFrameCodec(64 * 1024, Duration.ofSeconds(10)));
    return channel;
  }

  @Test
  void aFrameTrickledOneByteAtATimeIsBufferedOnceAtItsFinalSize() {
    CountingAllocator allocator = new CountingAllocator();
    EmbeddedChannel channel = channel(allocator);
    byte[] text = new byte[60 * 1024];
    Arrays.fill(text, (byte) 'a');
    byte[] frame = RawWsClient.encode(RawWsClient.TEXT, true, text);
    for (byte b : frame) {
      channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    TextWebSocketFrame message = channel.readInbound();
    assertThat(message.content().readableBytes()).isEqualTo(text.length);
    message.release();
    // Once at its final size, plus the few bytes of its header: not a copy per read (which was
    // about frame² / 2, some 2 GB, for this frame).
    assertThat(allocator.allocatedBytes).isLessThanOrEqualTo(frame.length + 64L);
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  @Test
  void framesSplitAnywhereAcrossReadsArriveWholeAndInOrder() {
    CountingAllocator allocator = new CountingAllocator();
    EmbeddedChannel channel = channel(allocator);
    StringBuilder all = new StringBuilder();
    java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < 50; i++) {
      String text = "message-" + i + "-" + "x".repeat(i * 37);
      all.append(text).append('|');
      wire.writeBytes(
          RawWsClient.encode(RawWsClient.TEXT, true, text.getBytes(StandardCharsets.UTF_8)));
    }
    byte[] bytes = wire.toByteArray();
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < bytes.length; ) {
      int n = Math.min(bytes.length - i, 1 + random.nextInt(23));
      channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, n));
      i += n;
    }
    StringBuilder received = new StringBuilder();
    TextWebSocketFrame message;
    while ((message = channel.readInbound()) != null) {
      received.append(message.text()).append('|');
      message.release();
    }
    assertThat(received.toString()).isEqualTo(all.toString());
    channel.finishAndReleaseAll();
  }
}
