package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal RFC 6455 client on a plain socket, for what the JDK client will not do: send invalid
 * UTF-8 or arbitrary frames, ignore pings, or stop reading altogether (with a small receive buffer,
 * so the server's writes back up quickly). Blocking; one thread at a time.
 */
final class RawWsClient implements AutoCloseable {
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  /** One frame from the server. */
  record Frame(int opcode, boolean fin, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return WsClient.JSON.readTree(payload);
      } catch (IOException e) {
        throw new UncheckedIOException("server sent invalid JSON: " + text(), e);
      }
    }

    /** The status code of a close frame (1005 when it has none). */
    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawWsClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    this.out = socket.getOutputStream();
  }

  /** Connects and completes the opening handshake, failing the test if it is refused. */
  static RawWsClient connect(int port, String pathAndQuery) {
    return connect(port, pathAndQuery, 0);
  }

  /**
   * @param receiveBuffer the socket's SO_RCVBUF, or 0 for the default; a small one makes a client
   *     that does not read back the server up after a few KB instead of a few MB
   */
  static RawWsClient connect(int port, String pathAndQuery, int receiveBuffer) {
    return connect(port, pathAndQuery, receiveBuffer, Map.of());
  }

  /** As above, with extra handshake headers (e.g. to offer permessage-deflate). */
  static RawWsClient connect(
      int port, String pathAndQuery, int receiveBuffer, Map<String, String> headers) {
    try {
      Socket socket = new Socket();
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer); // before connect: sets the TCP window
      }
      socket.setSoTimeout((int) WsClient.WAIT.toMillis());
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) WsClient.WAIT.toMillis());
      RawWsClient client = new RawWsClient(socket);
      int status = client.handshake(port, pathAndQuery, headers);
      assertThat(status).as("handshake status for %s", pathAndQuery).isEqualTo(101);
      return client;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private int handshake(int port, String pathAndQuery, Map<String, String> extra)
      throws IOException {
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    String request =
        "GET "
            + pathAndQuery
            + " HTTP/1.1\r\n"
            + "Host: 127.0.0.1:"
            + port
            + "\r\n"
            + "Upgrade: websocket\r\n"
            + "Connection: Upgrade\r\n"
            + "Sec-WebSocket-Key: "
            + key
            + "\r\n"
            + "Sec-WebSocket-Version: 13\r\n";
    StringBuilder extraHeaders = new StringBuilder();
    extra.forEach(
        (name, value) -> extraHeaders.append(name).append(": ").append(value).append("\r\n"));
    request += extraHeaders + "\r\n";
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    Map<String, String> headers = new java.util.HashMap<>();
    String statusLine = readLine();
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    if (status == 101) {
      assertThat(headers.get("sec-websocket-accept")).isEqualTo(accept(key));
    }
    return status;
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new EOFException("connection closed during the handshake");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  private static String accept(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1")
              .digest(
                  (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                      .getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ sending

  void sendText(String text) {
    sendFrame(TEXT, true, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends one masked frame, as every client frame must be. */
  void sendFrame(int opcode, boolean fin, byte[] payload) {
    sendRaw(encode(opcode, fin, payload));
  }

  /** Sends {@code texts} as text frames, all in one write. */
  void sendTextsInOneWrite(List<String> texts) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (String text : texts) {
      all.writeBytes(encode(TEXT, true, text.getBytes(StandardCharsets.UTF_8)));
    }
    sendRaw(all.toByteArray());
  }

  /** Writes {@code bytes} as they are, in one write. */
  void sendRaw(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends each packet without waiting for more data (no Nagle): one write, one TCP segment. */
  void noDelay() {
    try {
      socket.setTcpNoDelay(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits at most {@code timeout} for each read from now on. */
  void readTimeout(java.time.Duration timeout) {
    try {
      socket.setSoTimeout((int) timeout.toMillis());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A masked client frame. */
  static byte[] encode(int opcode, boolean fin, byte[] payload) {
    {
      ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
      frame.write((fin ? 0x80 : 0) | opcode);
      if (payload.length < 126) {
        frame.write(0x80 | payload.length);
      } else if (payload.length <= 0xFFFF) {
        frame.write(0x80 | 126);
        frame.write(payload.length >>> 8);
        frame.write(payload.length);
      } else {
        frame.write(0x80 | 127);
        for (int i = 7; i >= 0; i--) {
          frame.write((int) ((long) payload.length >>> (8 * i)));
        }
      }
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      frame.writeBytes(mask);
      for (int i = 0; i < payload.length; i++) {
        frame.write(payload[i] ^ mask[i & 3]);
      }
      return frame.toByteArray();
    }
  }

  // ------------------------------------------------------------------ reading

  /** The next frame of any kind, failing the test if none comes in time. */
  Frame readFrame() {
    try {
      int first = readByte();
      int second = readByte();
      long length = second & 0x7F;
      if (length == 126) {
        length = (readByte() << 8) | readByte();
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | readByte();
        }
      }
      assertThat(second & 0x80).as("server frames are not masked").isZero();
      byte[] payload = in.readNBytes((int) length);
      if (payload.length < length) {
        throw new EOFException("connection closed inside a frame");
      }
      return new Frame(first & 0x0F, (first & 0x80) != 0, payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("connection closed");
    }
    return b;
  }

  /** The next text message, skipping ping frames (left unanswered) and heartbeats. */
  JsonNode next() {
    while (true) {
      Frame frame = readFrame();
      assertThat(frame.opcode())
          .as("expected a text frame, got %s", describe(frame))
          .isIn(TEXT, PING, PONG);
      if (frame.opcode() == TEXT && !frame.json().path("type").asText().equals("heartbeat")) {
        return frame.json();
      }
    }
  }

  /** The next text message, which must have this type. */
  JsonNode next(String type) {
    JsonNode message = next();
    assertThat(message.path("type").asText()).as("type of %s", message).isEqualTo(type);
    return message;
  }

  /**
   * Reads everything up to the server's close frame: the text messages before it (heartbeats
   * excluded) and the close code.
   */
  Closed readUntilClose() {
    List<JsonNode> messages = new ArrayList<>();
    while (true) {
      Frame frame = readFrame();
      if (frame.opcode() == CLOSE) {
        return new Closed(messages, frame.closeCode(), frame.payload());
      }
      if (frame.opcode() == TEXT && !frame.json().path("type").asText().equals("heartbeat")) {
        messages.add(frame.json());
      }
    }
  }

  /** What a connection delivered before the server closed it. */
  record Closed(List<JsonNode> messages, int code, byte[] closePayload) {
    String reason() {
      return closePayload.length > 2
          ? new String(closePayload, 2, closePayload.length - 2, StandardCharsets.UTF_8)
          : "";
    }
  }

  /** Whether the server has closed the TCP connection (reads EOF, skipping what is left). */
  boolean readsEndOfStream() {
    try {
      while (in.read() >= 0) {
        // drain
      }
      return true;
    } catch (IOException e) {
      return e.getMessage() != null && e.getMessage().contains("reset");
    }
  }

  private static String describe(Frame frame) {
    return frame.opcode() == CLOSE
        ? "close " + frame.closeCode()
        : "opcode " + frame.opcode() + " " + frame.text();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
