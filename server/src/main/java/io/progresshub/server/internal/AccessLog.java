package io.progresshub.server.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.progresshub.server.AccessLogConfig;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log, logger {@value #LOGGER}: one line per HTTP request answered, and one when a
 * WebSocket or SSE connection opens and when it closes. A line carries no query string, header or
 * message text from the client, so no token can reach it; what it quotes from the client (the path)
 * is escaped, so no client can forge a line.
 */
public final class AccessLog {
  /** The logger name: route it, or turn it off, in the logging configuration. */
  public static final String LOGGER = "progress-hub.access";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
  private static final JsonFactory JSON = new JsonFactory();

  /** Longest path logged; the rest is cut (a path may be up to the 8 KiB request line). */
  private static final int MAX_PATH = 256;

  private final AccessLogConfig.Format format;

  public AccessLog(AccessLogConfig config) {
    this.format = config.format();
  }

  /** Whether lines are written at all: when not, nothing is gathered for them. */
  public boolean enabled() {
    return LOG.isInfoEnabled();
  }

  /** One answered HTTP request. {@code bytes} is -1 for a stream (SSE), whose length is open. */
  public void request(
      String method,
      String uri,
      int status,
      long bytes,
      long nanos,
      SocketAddress remote,
      Optional<String> user) {
    if (!enabled()) {
      return;
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", method);
    fields.put("path", path(uri));
    fields.put("status", status);
    fields.put("bytes", bytes < 0 ? "-" : bytes);
    fields.put("ms", Math.round(nanos / 10_000.0) / 100.0);
    fields.put("remote", address(remote));
    fields.put("user", user.orElse("-"));
    write("request", fields);
  }

  /** A WebSocket or SSE connection was established. */
  public void opened(Connection connection, Optional<String> user) {
    if (!enabled()) {
      return;
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("id", connection.id());
    fields.put("transport", transport(connection));
    fields.put("remote", address(connection.channel().remoteAddress()));
    fields.put("user", user.orElse("-"));
    write("open", fields);
  }

  /** Why the server ends a connection: kept on the channel (only once it ends) for its line. */
  private record Ending(int code, String reason) {}

  private static final AttributeKey<Ending> ENDING =
      AttributeKey.valueOf(AccessLog.class, "ending");

  /**
   * Notes why the server is ending {@code channel}'s connection: a WebSocket close code (or -1, as
   * for an SSE stream) and its reason. The first note wins.
   */
  public static void ending(Channel channel, int code, String reason) {
    channel.attr(ENDING).setIfAbsent(new Ending(code, reason));
  }

  /**
   * A WebSocket or SSE connection ended: with the close code and reason the server gave ({@link
   * #ending}), or none when the client left or the connection was lost.
   *
   * @param messages messages written to it
   */
  public void closed(Connection connection, long messages, Optional<String> user) {
    if (!enabled()) {
      return;
    }
    Ending ending = connection.channel().attr(ENDING).get();
    int code = ending == null ? -1 : ending.code();
    String reason = ending == null ? "closed by the client or lost" : ending.reason();
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("id", connection.id());
    fields.put("transport", transport(connection));
    fields.put("remote", address(connection.channel().remoteAddress()));
    fields.put("user", user.orElse("-"));
    fields.put("code", code < 0 ? "-" : code);
    fields.put("reason", reason);
    fields.put("ms", System.currentTimeMillis() - connection.openedAt().toEpochMilli());
    fields.put("messages", messages);
    write("close", fields);
  }

  /** The path of a request URI: no query string (where tokens travel), no fragment, bounded. */
  static String path(String uri) {
    int end = uri.length();
    int query = uri.indexOf('?');
    if (query >= 0) {
      end = query;
    }
    int fragment = uri.indexOf('#');
    if (fragment >= 0 && fragment < end) {
      end = fragment;
    }
    return uri.substring(0, Math.min(end, MAX_PATH));
  }

  private static String transport(Connection connection) {
    return connection.transport().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String address(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(remote);
  }

  private void write(String event, Map<String, Object> fields) {
    LOG.info(format == AccessLogConfig.Format.JSON ? json(event, fields) : plain(event, fields));
  }

  /** {@code 2026-12-07T09:00:00.123Z request method=GET path=/api/jobs status=200 ...} */
  private static String plain(String event, Map<String, Object> fields) {
    StringBuilder line = new StringBuilder(160);
    line.append(Instant.now()).append(' ').append(event);
    fields.forEach(
        (name, value) -> {
          line.append(' ').append(name).append('=');
          appendValue(line, String.valueOf(value));
        });
    return line.toString();
  }

  /**
   * Bare when safe, else quoted with {@code "} and {@code \} escaped and controls as {@code
   * \\uXXXX}.
   */
  private static void appendValue(StringBuilder line, String value) {
    boolean bare = !value.isEmpty();
    for (int i = 0; i < value.length() && bare; i++) {
      char c = value.charAt(i);
      bare = c > ' ' && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (bare) {
      line.append(value);
      return;
    }
    line.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        line.append('\\').append(c);
      } else if (c < ' ' || c == 0x7f || Character.isSurrogate(c) || (c >= 0x80 && c < 0xa0)) {
        line.append(String.format("\\u%04x", (int) c));
      } else {
        line.append(c);
      }
    }
    line.append('"');
  }

  private static String json(String event, Map<String, Object> fields) {
    StringWriter out = new StringWriter(200);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("ts", Instant.now().toString());
      json.writeStringField("event", event);
      for (Map.Entry<String, Object> field : fields.entrySet()) {
        if (field.getValue() instanceof Number number) {
          json.writeFieldName(field.getKey());
          if (number instanceof Double d) {
            json.writeNumber(d);
          } else {
            json.writeNumber(number.longValue());
          }
        } else if ("-".equals(field.getValue())) {
          json.writeNullField(field.getKey());
        } else {
          json.writeStringField(field.getKey(), String.valueOf(field.getValue()));
        }
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
