package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A real WebSocket client (the JDK's) that queues every JSON message and records the close. */
final class WsClient implements WebSocket.Listener, AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration WAIT = Duration.ofSeconds(10);

  final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
  final AtomicInteger pings = new AtomicInteger();
  volatile String closeReason;
  private final StringBuilder partial = new StringBuilder();
  WebSocket socket;

  static WsClient connect(HttpClient http, URI uri, Optional<String> origin) {
    return connect(http, uri, origin.map(value -> Map.of("Origin", value)).orElse(Map.of()));
  }

  static WsClient connect(HttpClient http, URI uri, Map<String, String> headers) {
    return connectAsync(http, uri, headers).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  /** Opens the connection; completes exceptionally if the handshake is refused. */
  static CompletableFuture<WsClient> connectAsync(
      HttpClient http, URI uri, Map<String, String> headers) {
    WsClient client = new WsClient();
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(WAIT);
    headers.forEach(builder::header);
    return builder
        .buildAsync(uri, client)
        .thenApply(
            socket -> {
              client.socket = socket;
              return client;
            });
  }

  @Override
  public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
    pings.incrementAndGet(); // the JDK answers with a pong by itself
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        messages.add(JSON.readTree(partial.toString()));
      } catch (Exception e) {
        throw new IllegalStateException("server sent invalid JSON: " + partial, e);
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closeReason = reason;
    closeCode.complete(statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closeCode.complete(1006);
  }

  void send(String json) {
    socket.sendText(json, true).join();
  }

  /** The next message, failing the test if none comes in time. */
  JsonNode next() {
    try {
      JsonNode message = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(message).as("a message within %s", WAIT).isNotNull();
      return message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next message of this type, skipping heartbeats only. */
  JsonNode next(String type) {
    JsonNode message = next();
    while (message.path("type").asText().equals("heartbeat") && !type.equals("heartbeat")) {
      message = next();
    }
    assertThat(message.path("type").asText()).as("type of %s", message).isEqualTo(type);
    return message;
  }

  /** The next message that is not a heartbeat. */
  JsonNode nextSkippingHeartbeats() {
    JsonNode message = next();
    while (message.path("type").asText().equals("heartbeat")) {
      message = next();
    }
    return message;
  }

  /** Asserts the connection still serves commands: a ping is answered with its pong. */
  void assertOpen() {
    String id = "alive-" + System.nanoTime();
    send("{\"type\":\"ping\",\"id\":\"" + id + "\"}");
    JsonNode pong = next("pong");
    assertThat(pong.path("id").asText()).isEqualTo(id);
  }

  /** Messages until one matches, heartbeats left out, returning all of them (the match last). */
  List<JsonNode> until(Predicate<JsonNode> last) {
    List<JsonNode> seen = new ArrayList<>();
    while (true) {
      JsonNode message = nextSkippingHeartbeats();
      seen.add(message);
      if (last.test(message)) {
        return seen;
      }
    }
  }

  /** Nothing arrives for a while (apart from heartbeats). */
  void assertQuiet(Duration duration) {
    try {
      JsonNode message = messages.poll(duration.toMillis(), TimeUnit.MILLISECONDS);
      while (message != null && message.path("type").asText().equals("heartbeat")) {
        message = messages.poll(duration.toMillis(), TimeUnit.MILLISECONDS);
      }
      assertThat(message).as("no message").isNull();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  int awaitClose() {
    return closeCode.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    if (!socket.isOutputClosed()) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
    }
    socket.abort();
  }
}
