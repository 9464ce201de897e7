package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An EventSource as a browser runs it, over a raw socket: sends the GET, decodes the chunked body
 * and parses {@code id:}, {@code event:}, {@code data:} fields and {@code :} comments as they
 * arrive. A non-200 answer is kept whole in {@link #response}.
 */
final class SseClient implements AutoCloseable {
  static final Duration WAIT = RawHttp.WAIT;

  /** One dispatched event. */
  record Event(String id, String event, String data) implements Item {
    JsonNode json() {
      try {
        return RestClient.JSON.readTree(data);
      } catch (IOException e) {
        throw new AssertionError("event data is not JSON: " + data, e);
      }
    }

    long seq() {
      return Long.parseLong(id);
    }
  }

  /** A comment line such as {@code : heartbeat}. */
  record Comment(String text) implements Item {}

  /** The server ended the stream; {@code clean} when it sent the last chunk first. */
  record End(boolean clean) implements Item {}

  sealed interface Item permits Event, Comment, End {}

  private final RawHttp connection;
  final RawHttp.Head head;
  final RawHttp.Response response;
  private final BlockingQueue<Item> items = new LinkedBlockingQueue<>();
  final CompletableFuture<End> ended = new CompletableFuture<>();

  private volatile String retry = "";

  private SseClient(RawHttp connection, RawHttp.Head head, RawHttp.Response response) {
    this.connection = connection;
    this.head = head;
    this.response = response;
  }

  /** Opens {@code pathAndQuery} with {@code Accept: text/event-stream} and the given headers. */
  static SseClient open(int port, String pathAndQuery, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("Accept", "text/event-stream");
    all.putAll(headers);
    RawHttp connection = RawHttp.open(port);
    connection.write(RawHttp.request("GET", pathAndQuery, all));
    RawHttp.Head head = connection.readHead();
    if (head.status() != 200) {
      SseClient refused =
          new SseClient(connection, head, new RawHttp.Response(head, connection.readBody(head)));
      connection.close();
      return refused;
    }
    SseClient client = new SseClient(connection, head, null);
    Thread.ofVirtual().name("sse-client").start(client::read);
    return client;
  }

  static SseClient open(int port, String pathAndQuery) {
    return open(port, pathAndQuery, Map.of());
  }

  /** The last {@code retry:} the stream sent, as sent. */
  String retry() {
    return retry;
  }

  int status() {
    return head.status();
  }

  private void read() {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    Map<String, String> fields = new LinkedHashMap<>();
    StringBuilder data = new StringBuilder();
    boolean clean = false;
    try {
      byte[] chunk;
      while ((chunk = connection.readChunk()) != null) {
        if (chunk.length == 0) {
          clean = true;
          break;
        }
        for (byte b : chunk) {
          if (b != '\n') {
            line.write(b);
            continue;
          }
          String text = line.toString(StandardCharsets.UTF_8);
          line.reset();
          if (text.isEmpty()) {
            if (!data.isEmpty() || fields.containsKey("id")) {
              items.add(
                  new Event(
                      fields.get("id"),
                      fields.getOrDefault("event", "message"),
                      data.isEmpty() ? "" : data.substring(0, data.length() - 1)));
            }
            fields.clear();
            data.setLength(0);
          } else if (text.startsWith(":")) {
            items.add(new Comment(text.substring(1).trim()));
          } else {
            int colon = text.indexOf(':');
            String name = colon < 0 ? text : text.substring(0, colon);
            String value = colon < 0 ? "" : text.substring(colon + 1);
            if (value.startsWith(" ")) {
              value = value.substring(1);
            }
            if (name.equals("data")) {
              data.append(value).append('\n');
            } else if (name.equals("retry")) {
              retry = value;
            } else {
              fields.put(name, value);
            }
          }
        }
      }
    } catch (UncheckedIOException | AssertionError e) {
      // connection reset or closed mid-chunk: an unclean end
    }
    End end = new End(clean);
    items.add(end);
    ended.complete(end);
    connection.close();
  }

  private Item nextItem() {
    try {
      Item item = items.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(item).as("an SSE item within %s", WAIT).isNotNull();
      return item;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next event, skipping comments; fails if the stream ends first. */
  Event next() {
    while (true) {
      Item item = nextItem();
      if (item instanceof Event event) {
        return event;
      }
      assertThat(item).as("stream ended before the next event").isNotInstanceOf(End.class);
    }
  }

  /** The next comment, skipping events; fails if the stream ends first. */
  Comment nextComment() {
    while (true) {
      Item item = nextItem();
      if (item instanceof Comment comment) {
        return comment;
      }
      assertThat(item).as("stream ended before the next comment").isNotInstanceOf(End.class);
    }
  }

  /** Every event until the server ends the stream, and how it ended. */
  List<Event> eventsUntilEnd() {
    List<Event> events = new ArrayList<>();
    while (true) {
      Item item = nextItem();
      if (item instanceof Event event) {
        events.add(event);
      } else if (item instanceof End) {
        return events;
      }
    }
  }

  End awaitEnd() {
    return ended.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    connection.close();
  }
}
