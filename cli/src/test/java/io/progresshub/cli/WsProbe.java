package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The JDK's WebSocket client against a server process: queues every JSON message, keeps the close.
 */
final class WsProbe implements WebSocket.Listener, AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(30);

  final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private WebSocket socket;

  static WsProbe connect(HttpClient http, URI uri) {
    WsProbe probe = new WsProbe();
    probe.socket =
        http.newWebSocketBuilder()
            .connectTimeout(WAIT)
            .buildAsync(uri, probe)
            .orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS)
            .join();
    return probe;
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      messages.add(ServerProcess.parse(partial.toString()));
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closeCode.complete(statusCode); // returning null answers the close handshake
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closeCode.complete(1006); // closed without a close frame
  }

  void send(String json) {
    socket.sendText(json, true).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  /** The next message that is not a heartbeat; fails the test if none comes in time. */
  JsonNode next() {
    try {
      while (true) {
        JsonNode message = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(message).as("a WebSocket message within %s", WAIT).isNotNull();
        if (!message.path("type").asText().equals("heartbeat")) {
          return message;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next message, which must be of this type. */
  JsonNode next(String type) {
    JsonNode message = next();
    assertThat(message.path("type").asText()).as("type of %s", message).isEqualTo(type);
    return message;
  }

  /** Messages until one matches, the matching one last. */
  List<JsonNode> until(Predicate<JsonNode> last, int max) {
    List<JsonNode> seen = new ArrayList<>();
    for (int i = 0; i < max; i++) {
      JsonNode message = next();
      seen.add(message);
      if (last.test(message)) {
        return seen;
      }
    }
    throw new AssertionError("no matching message among " + max + ": " + seen);
  }

  /** The close code the server sent; fails if the connection is still open after {@code WAIT}. */
  int awaitClose() {
    return closeCode.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    if (socket != null) {
      socket.abort();
    }
  }
}
