package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.progresshub.core.Role;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * permessage-deflate bombs (RFC 7692): a small compressed message that inflates far past the 64 KiB
 * message limit. With compression on, the server must stop inflating at the limit, close the
 * connection with 1009 (message too big), and never hold the inflated size in memory.
 */
class DeflateBombTest {
  private static final int FIN = 0x80;
  private static final int RSV1 = 0x40;
  private static final int CONTINUATION = 0x0;
  private static final int TEXT = 0x1;
  private static final int CLOSE = 0x8;

  /** What the bomb inflates to: 64 MiB of zeros, about 64 KiB on the wire. */
  private static final int INFLATED_BYTES = 64 << 20;

  /**
   * How much the server's memory (heap, and Netty's buffers) may grow while it handles the bomb: a
   * quarter of the inflated size, far above what refusing it needs, far below inflating it.
   */
  private static final long MEMORY_BOUND = INFLATED_BYTES / 4;

  @Test
  void aDeflateBombIsRefusedWithoutInflatingIt() throws Exception {
    byte[] bomb = compress(new byte[INFLATED_BYTES]);
    assertThat(bomb.length).isLessThan(INFLATED_BYTES / 500);
    try (TestServer server = TestServer.start(TestServer.compression());
        DeflateClient client = DeflateClient.open(server, server.token("alice", Role.SUBSCRIBER))) {
      try (MemoryPeak peak = MemoryPeak.start()) {
        client.sendFrame(FIN | RSV1 | TEXT, bomb);
        client.readUntilEnd();
        assertThat(peak.growth())
            .as("server memory growth while refusing %d MiB", INFLATED_BYTES >> 20)
            .isLessThan(MEMORY_BOUND);
      }
      assertThat(client.millisToEnd()).as("milliseconds to close").isLessThan(5_000);
    }
  }

  @Test
  void aDeflateBombInOneFrameIsClosedWith1009() throws Exception {
    byte[] bomb = compress(new byte[10 << 20]); // 10 MiB of zeros, about 10 KiB compressed
    try (TestServer server = TestServer.start(TestServer.compression());
        DeflateClient client = DeflateClient.open(server, server.token("alice", Role.SUBSCRIBER))) {
      client.sendFrame(FIN | RSV1 | TEXT, bomb);

      assertThat(client.readUntilEnd()).as("close codes sent by the server").containsExactly(1009);
    }
  }

  @Test
  void aDeflateBombCutIntoFragmentsIsClosedWith1009() throws Exception {
    // One compressed stream cut into frames that each inflate to 16 KiB, well under the limit:
    // only the message as a whole is too big.
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    byte[] zeros = new byte[16 << 10];
    try (TestServer server = TestServer.start(TestServer.compression());
        DeflateClient client = DeflateClient.open(server, server.token("alice", Role.SUBSCRIBER))) {
      for (int i = 0; i < 64; i++) { // 1 MiB in all
        deflater.setInput(zeros);
        byte[] part = drain(deflater, Deflater.SYNC_FLUSH);
        boolean last = i == 63;
        byte[] payload = last ? Arrays.copyOf(part, part.length - 4) : part;
        int opcode = i == 0 ? RSV1 | TEXT : CONTINUATION;
        if (!client.trySendFrame((last ? FIN : 0) | opcode, payload)) {
          break; // the server has closed already
        }
      }
      deflater.end();

      assertThat(client.readUntilEnd()).as("close codes sent by the server").startsWith(1009);
    }
  }

  @Test
  void aDeflateClientThatAnswersTheCloseFrameGetsNoSecondOne() throws Exception {
    try (TestServer server = TestServer.start(TestServer.compression());
        DeflateClient client = DeflateClient.open(server, server.token("alice", Role.SUBSCRIBER))) {
      sendMessageOverTheLimitInTwoFragments(client);

      assertThat(client.readUntilEnd()).as("close codes sent by the server").containsExactly(1009);
    }
  }

  @Test
  void aDeflateClientThatNeverAnswersTheCloseFrameIsDroppedWithinSeconds() throws Exception {
    try (TestServer server = TestServer.start(TestServer.compression());
        DeflateClient client = DeflateClient.open(server, server.token("alice", Role.SUBSCRIBER))) {
      sendMessageOverTheLimitInTwoFragments(client);

      assertThat(client.readUntilEnd(false)).containsExactly(1009);
      assertThat(client.millisFromCloseFrameToEnd())
          .as("milliseconds from the close frame to the end of the connection")
          .isLessThan(5_000);
    }
  }

  /**
   * A message that inflates to 100 KiB, over the 64 KiB limit, in two fragments that each inflate
   * to less than the limit: the server refuses it with 1009, not as a decompression failure.
   */
  private static void sendMessageOverTheLimitInTwoFragments(DeflateClient client)
      throws IOException {
    byte[] tooBig = compress(new byte[100 << 10]);
    int half = tooBig.length / 2;
    client.sendFrame(RSV1 | TEXT, Arrays.copyOf(tooBig, half));
    client.sendFrame(FIN | CONTINUATION, Arrays.copyOfRange(tooBig, half, tooBig.length));
  }

  /** The RFC 7692 payload of one message: raw deflate, sync-flushed, without 00 00 ff ff. */
  static byte[] compress(byte[] message) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    deflater.setInput(message);
    byte[] flushed = drain(deflater, Deflater.SYNC_FLUSH);
    deflater.end();
    assertThat(Arrays.copyOfRange(flushed, flushed.length - 4, flushed.length))
        .containsExactly(0, 0, 0xff, 0xff);
    return Arrays.copyOf(flushed, flushed.length - 4);
  }

  private static byte[] drain(Deflater deflater, int flush) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[64 << 10];
    int n;
    do {
      n = deflater.deflate(buffer, 0, buffer.length, flush);
      out.write(buffer, 0, n);
    } while (n == buffer.length || !deflater.needsInput());
    return out.toByteArray();
  }

  /**
   * The highest growth of the server's memory while it runs: used heap, and the buffers of Netty's
   * default allocator and of the JVM's direct pool. Sampled every millisecond by a thread.
   */
  static final class MemoryPeak implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong peak = new AtomicLong();
    private final long baseline;
    private final Thread sampler;

    private MemoryPeak() {
      System.gc();
      baseline = used();
      sampler =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    while (running.get()) {
                      peak.accumulateAndGet(used(), Math::max);
                      try {
                        Thread.sleep(1);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
    }

    static MemoryPeak start() {
      return new MemoryPeak();
    }

    long growth() throws InterruptedException {
      running.set(false);
      sampler.join();
      return Math.max(0, peak.get() - baseline);
    }

    private static long used() {
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider metrics) {
        used += metrics.metric().usedDirectMemory();
      }
      for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
        if (pool.getName().equals("direct")) {
          used += pool.getMemoryUsed();
        }
      }
      return used;
    }

    @Override
    public void close() {
      running.set(false);
    }
  }

  /** A client that negotiates permessage-deflate and sends frames as they are given. */
  static final class DeflateClient implements AutoCloseable {
    private static final int READ_TIMEOUT_MILLIS = 8_000;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private long sentAt;
    private long closedAt;
    private long endedAt;

    private DeflateClient(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
    }

    static DeflateClient open(TestServer server, String token) throws IOException {
      Socket socket = new Socket("127.0.0.1", server.port());
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      DeflateClient client = new DeflateClient(socket);
      String request =
          "GET /ws?token="
              + token
              + " HTTP/1.1\r\n"
              + "Host: 127.0.0.1:"
              + server.port()
              + "\r\n"
              + "Upgrade: websocket\r\n"
              + "Connection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
              + "Sec-WebSocket-Version: 13\r\n\r\n";
      client.out.write(request.getBytes(StandardCharsets.US_ASCII));
      client.out.flush();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        head.write(client.in.readUnsignedByte());
      }
      String response = head.toString(StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
      assertThat(response).startsWith("http/1.1 101").contains("permessage-deflate");
      return client;
    }

    void sendFrame(int firstByte, byte[] payload) throws IOException {
      // RSV1 rides in the opcode bits: the client frame encoder copies them as they are.
      byte[] frame = RawWsClient.encode(firstByte & 0x7F, (firstByte & 0x80) != 0, payload);
      if (sentAt == 0) {
        sentAt = System.nanoTime();
      }
      out.write(frame);
      out.flush();
    }

    /** False if the server has already closed the connection. */
    boolean trySendFrame(int firstByte, byte[] payload) throws IOException {
      try {
        sendFrame(firstByte, payload);
        return true;
      } catch (SocketException closed) {
        return false;
      }
    }

    /**
     * Reads every frame until the server closes the TCP connection, answering its close frame as
     * RFC 6455 asks; the close codes it sent.
     */
    List<Integer> readUntilEnd() throws IOException {
      return readUntilEnd(true);
    }

    /** As {@link #readUntilEnd()}; a client that does not answer leaves closing to the server. */
    List<Integer> readUntilEnd(boolean answerClose) throws IOException {
      List<Integer> codes = new ArrayList<>();
      try {
        while (true) {
          int firstByte = in.readUnsignedByte();
          long length = in.readUnsignedByte() & 0x7f;
          if (length == 126) {
            length = in.readUnsignedShort();
          } else if (length == 127) {
            length = in.readLong();
          }
          byte[] payload = new byte[(int) length];
          in.readFully(payload);
          if ((firstByte & 0x0f) == CLOSE) {
            closedAt = System.nanoTime();
            codes.add(
                payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005);
            if (answerClose) {
              trySendFrame(FIN | CLOSE, Arrays.copyOf(payload, Math.min(payload.length, 2)));
            }
          }
        }
      } catch (EOFException | SocketException end) {
        endedAt = System.nanoTime();
        return codes;
      } catch (SocketTimeoutException stillOpen) {
        throw new AssertionError(
            "connection still open "
                + READ_TIMEOUT_MILLIS
                + " ms after the last frame; close codes so far: "
                + codes,
            stillOpen);
      }
    }

    /** Milliseconds from the first frame sent to the end of the connection. */
    long millisToEnd() {
      return (endedAt - sentAt) / 1_000_000;
    }

    /** Milliseconds from the server's close frame to the end of the connection. */
    long millisFromCloseFrameToEnd() {
      return (endedAt - closedAt) / 1_000_000;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
