package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/**
 * How the server fails a connection whose client breaks RFC 6455. These need a raw socket: the
 * JDK's client refuses to send malformed frames.
 */
class WebSocketProtocolErrorTest {
  private static final int FIN = 0x80;
  private static final int RSV1 = 0x40;
  private static final int TEXT = 0x1;
  private static final int CLOSE = 0x8;
  private static final byte[] PING =
      "{\"type\":\"ping\",\"id\":\"p1\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void malformedCloseFrameIsNotAnsweredWithNormalClosure() throws IOException {
    try (TestServer server = TestServer.start();
        RawWebSocket socket = RawWebSocket.open(server.port(), "/ws", false)) {
      socket.send(FIN | CLOSE, new byte[] {0, 0}); // close code 0 is not a valid close code

      // RFC 6455 7.1.7: fail the connection, with 1002 or by dropping TCP; 1000 would tell the
      // client everything was fine.
      assertThat(socket.closeCodesUntilEnd()).isSubsetOf(1002);
    }
  }

  @Test
  void protocolViolationGetsExactlyOneCloseFrame() throws IOException {
    try (TestServer server = TestServer.start();
        RawWebSocket socket = RawWebSocket.open(server.port(), "/ws", false)) {
      socket.send(FIN | 0x3, new byte[0]); // reserved data opcode

      assertThat(socket.closeCodesUntilEnd()).containsExactly(1002);
    }
  }

  @Test
  void frameWithReservedBitsIsRejectedWhenNoExtensionWasNegotiated() throws IOException {
    try (TestServer server = TestServer.start();
        RawWebSocket socket = RawWebSocket.open(server.port(), "/ws", false)) {
      socket.send(FIN | RSV1 | TEXT, PING); // RSV1 means "compressed", but nothing was negotiated

      assertThat(socket.closeCodesUntilEnd()).containsExactly(1002);
    }
  }

  @Test
  void compressedMessagesStillWorkWhenDeflateWasNegotiated() throws IOException {
    try (TestServer server = TestServer.start(TestServer.compression());
        RawWebSocket socket = RawWebSocket.open(server.port(), "/ws", true)) {
      Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      deflater.setInput(PING);
      byte[] buffer = new byte[256];
      int length = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
      deflater.end();
      // permessage-deflate (RFC 7692 7.2.1): drop the 00 00 ff ff tail of the sync flush.
      socket.send(FIN | RSV1 | TEXT, Arrays.copyOf(buffer, length - 4));

      assertThat(socket.textUntil(text -> text.contains("\"pong\""))).contains("\"p1\"");
    }
  }

  /** Just enough of a client to send arbitrary frames and list what comes back. */
  private static final class RawWebSocket implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    // The server may keep its deflate context between messages (context takeover).
    private final Inflater inflater = new Inflater(true);

    private RawWebSocket(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
    }

    static RawWebSocket open(int port, String path, boolean deflate) throws IOException {
      Socket socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout((int) WsClient.WAIT.toMillis());
      RawWebSocket client = new RawWebSocket(socket);
      String request =
          "GET "
              + path
              + " HTTP/1.1\r\n"
              + "Host: 127.0.0.1:"
              + port
              + "\r\n"
              + "Upgrade: websocket\r\n"
              + "Connection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + (deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "")
              + "Sec-WebSocket-Version: 13\r\n\r\n";
      client.out.write(request.getBytes(StandardCharsets.US_ASCII));
      client.out.flush();
      String head = client.readHead();
      assertThat(head).startsWith("HTTP/1.1 101");
      if (deflate) {
        assertThat(head.toLowerCase(Locale.ROOT)).contains("permessage-deflate");
      }
      return client;
    }

    private String readHead() throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        head.write(in.readUnsignedByte());
      }
      return head.toString(StandardCharsets.US_ASCII);
    }

    /** Sends one masked frame (clients must mask) with the given first byte. */
    void send(int finRsvOpcode, byte[] payload) throws IOException {
      byte[] mask = {0x12, 0x34, 0x56, 0x78};
      out.write(finRsvOpcode);
      out.write(0x80 | payload.length); // payloads here stay under 126 bytes
      out.write(mask);
      for (int i = 0; i < payload.length; i++) {
        out.write(payload[i] ^ mask[i & 3]);
      }
      out.flush();
    }

    /** Reads frames until the server closes the connection; returns the close codes it sent. */
    List<Integer> closeCodesUntilEnd() throws IOException {
      List<Integer> codes = new ArrayList<>();
      try {
        while (true) {
          Frame frame = readFrame();
          if (frame.opcode() == CLOSE) {
            byte[] payload = frame.payload();
            codes.add(payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1);
          }
        }
      } catch (EOFException | SocketException end) {
        return codes;
      }
    }

    /** Reads single-frame text messages, inflating compressed ones, until one matches. */
    String textUntil(Predicate<String> wanted) throws IOException {
      while (true) {
        Frame frame = readFrame();
        assertThat(frame.opcode()).as("opcode").isEqualTo(TEXT);
        byte[] payload = frame.payload();
        if ((frame.firstByte() & RSV1) != 0) {
          payload = inflate(payload);
        }
        String text = new String(payload, StandardCharsets.UTF_8);
        if (wanted.test(text)) {
          return text;
        }
      }
    }

    private byte[] inflate(byte[] compressed) throws IOException {
      inflater.setInput(
          ByteBuffer.allocate(compressed.length + 4)
              .put(compressed)
              .put(new byte[] {0, 0, (byte) 0xff, (byte) 0xff})
              .flip());
      ByteArrayOutputStream inflated = new ByteArrayOutputStream();
      byte[] buffer = new byte[1024];
      try {
        while (!inflater.needsInput()) {
          inflated.write(buffer, 0, inflater.inflate(buffer));
        }
      } catch (DataFormatException e) {
        throw new IOException("server sent bad deflate data", e);
      }
      return inflated.toByteArray();
    }

    private Frame readFrame() throws IOException {
      int firstByte = in.readUnsignedByte();
      long length = in.readUnsignedByte() & 0x7f; // server frames are never masked
      if (length == 126) {
        length = in.readUnsignedShort();
      } else if (length == 127) {
        length = in.readLong();
      }
      byte[] payload = new byte[Math.toIntExact(length)];
      in.readFully(payload);
      return new Frame(firstByte, payload);
    }

    @Override
    public void close() throws IOException {
      inflater.end();
      socket.close();
    }
  }

  private record Frame(int firstByte, byte[] payload) {
    int opcode() {
      return firstByte & 0x0f;
    }
  }
}
