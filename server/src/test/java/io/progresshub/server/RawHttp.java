package io.progresshub.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * HTTP/1.1 over a plain socket, byte by byte as a client sends it: for half-sent requests, streams
 * and anything a full client library would hide.
 */
final class RawHttp implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  static RawHttp open(int port) {
    try {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) WAIT.toMillis());
      socket.setSoTimeout((int) WAIT.toMillis());
      return new RawHttp(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A request head with {@code Host} and the given headers. */
  static String request(String method, String pathAndQuery, Map<String, String> headers) {
    StringBuilder head = new StringBuilder();
    head.append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n");
    head.append("Host: 127.0.0.1\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("\r\n");
    return head.toString();
  }

  RawHttp write(String text) {
    return write(text.getBytes(StandardCharsets.UTF_8));
  }

  RawHttp write(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A status line and headers (names in lower case). */
  record Head(int status, Map<String, String> headers) {
    Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }

    boolean chunked() {
      return header("transfer-encoding").map(v -> v.equalsIgnoreCase("chunked")).orElse(false);
    }
  }

  /** A whole response. */
  record Response(Head head, String body) {
    int status() {
      return head.status();
    }
  }

  Head readHead() {
    String statusLine = readLine();
    if (statusLine == null) {
      throw new AssertionError("connection closed before a response");
    }
    String[] parts = statusLine.split(" ", 3);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    return new Head(Integer.parseInt(parts[1]), headers);
  }

  /** Reads one whole response: by Content-Length, chunked, or to the end of the connection. */
  Response readResponse() {
    Head head = readHead();
    return new Response(head, readBody(head));
  }

  /** The body after {@code head}: by Content-Length, chunked, or to the end of the connection. */
  String readBody(Head head) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (head.status() == 204 || head.status() == 304 || head.status() < 200) {
      return ""; // never a body, whatever the headers say
    }
    if (head.chunked()) {
      byte[] chunk;
      while ((chunk = readChunk()) != null && chunk.length > 0) {
        body.writeBytes(chunk);
      }
    } else if (head.header("content-length").isPresent()) {
      body.writeBytes(readExactly(Integer.parseInt(head.header("content-length").get())));
    } else {
      body.writeBytes(readToEnd());
    }
    return body.toString(StandardCharsets.UTF_8);
  }

  /** The next chunk of a chunked body: empty for the last chunk, null if the connection ended. */
  byte[] readChunk() {
    String size = readLine();
    if (size == null) {
      return null;
    }
    int length = Integer.parseInt(size.split(";", 2)[0].trim(), 16);
    byte[] data = readExactly(length);
    readLine(); // the CRLF after the data, or the (empty) trailer after the last chunk
    return data;
  }

  /**
   * Whether the server closed the connection: reads (and drops) whatever comes until the end of the
   * stream, failing if the connection is still open after {@link #WAIT}.
   */
  boolean awaitClosedByServer() {
    try {
      byte[] buffer = new byte[8192];
      while (in.read(buffer) >= 0) {
        // drain
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException reset) {
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A CRLF (or LF) terminated line without its terminator; null at the end of the stream. */
  String readLine() {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try {
      int b;
      while ((b = in.read()) != '\n') {
        if (b < 0) {
          return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
        }
        line.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] bytes = line.toByteArray();
    int length =
        bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  private byte[] readExactly(int length) {
    try {
      byte[] data = in.readNBytes(length);
      if (data.length < length) {
        throw new AssertionError(
            "connection ended after " + data.length + " of " + length + " bytes");
      }
      return data;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] readToEnd() {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
