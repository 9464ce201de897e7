package io.progresshub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A client that knows every node of a cluster: one multiplexed {@code /ws} connection watching
 * several jobs. When the connection drops it connects to the next node of its list and subscribes
 * to each job again with {@code since} = the last seq it received, as a client given a list of node
 * URLs would. It keeps every seq in the order received (no de-duplication: the test judges), the
 * connection ids it had, and the errors and unasked {@code unsubscribed} the server sent.
 */
final class ClusterWatcher implements AutoCloseable {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration RECONNECT_PAUSE = Duration.ofMillis(100);

  private final HttpClient http;
  private final List<URI> nodes;
  private final List<String> jobs;
  private final Map<String, List<Long>> seqs = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> latest = new ConcurrentHashMap<>();
  private final List<String> connectionIds = new CopyOnWriteArrayList<>();
  private final List<JsonNode> notices = new CopyOnWriteArrayList<>();
  private final List<JsonNode> subscribed = new CopyOnWriteArrayList<>();
  private final Thread keeper;
  private volatile boolean closed;
  private volatile WebSocket socket;
  private volatile CompletableFuture<Void> ended = new CompletableFuture<>();

  /**
   * Connects to {@code nodes.get(0)} and watches {@code jobs} from seq 1 ({@code since: 0}).
   *
   * @param nodes every node's {@code /ws} URL with a token, in the order to try them
   */
  ClusterWatcher(HttpClient http, List<URI> nodes, List<String> jobs) {
    this.http = http;
    this.nodes = List.copyOf(nodes);
    this.jobs = List.copyOf(jobs);
    jobs.forEach(job -> seqs.put(job, new CopyOnWriteArrayList<>()));
    this.keeper = Thread.ofVirtual().name("cluster-watcher").start(this::keepConnected);
  }

  private void keepConnected() {
    for (int attempt = 0; !closed; attempt++) {
      URI uri = nodes.get(attempt % nodes.size());
      CompletableFuture<Void> end = new CompletableFuture<>();
      ended = end;
      try {
        socket =
            http.newWebSocketBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .buildAsync(uri, new Listener(end))
                .get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        for (String job : jobs) {
          socket
              .sendText(
                  "{\"type\":\"subscribe\",\"job_id\":\"%s\",\"since\":%d}"
                      .formatted(job, lastSeq(job)),
                  true)
              .get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        end.join();
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // refused, reset or timed out: the next node
      }
      if (!closed) {
        try {
          Thread.sleep(RECONNECT_PAUSE);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private void handle(JsonNode message) {
    switch (message.path("type").asText()) {
      case "connection_established" -> connectionIds.add(message.path("connection_id").asText());
      case "subscribed" -> subscribed.add(message);
      case "progress" -> {
        String job = message.path("job_id").asText();
        seqs.computeIfAbsent(job, j -> new CopyOnWriteArrayList<>())
            .add(message.path("seq").asLong());
        latest.put(job, message);
      }
      case "error", "unsubscribed" -> notices.add(message);
      default -> {} // heartbeats, pongs
    }
  }

  /** Every seq of {@code job} received, in order, over every connection. */
  List<Long> seqs(String job) {
    return List.copyOf(seqs.get(job));
  }

  long lastSeq(String job) {
    List<Long> received = seqs.get(job);
    return received.isEmpty() ? 0 : received.getLast();
  }

  /** The last state received of {@code job}. */
  JsonNode latest(String job) {
    return latest.get(job);
  }

  /** How many times it connected again after its first connection. */
  int reconnects() {
    return Math.max(0, connectionIds.size() - 1);
  }

  List<String> connectionIds() {
    return List.copyOf(connectionIds);
  }

  /** {@code error} and unasked {@code unsubscribed} messages, in order. */
  List<JsonNode> notices() {
    return List.copyOf(notices);
  }

  /** Whether every job was answered with {@code subscribed} on the current connection at least. */
  boolean subscribedToAll() {
    return subscribed.size() >= jobs.size();
  }

  /** Total progress messages received. */
  int received() {
    return seqs.values().stream().mapToInt(List::size).sum();
  }

  @Override
  public void close() {
    closed = true;
    WebSocket current = socket;
    if (current != null) {
      current.abort();
    }
    ended.complete(null);
    keeper.interrupt();
  }

  private final class Listener implements WebSocket.Listener {
    private final CompletableFuture<Void> end;
    private final StringBuilder partial = new StringBuilder();

    Listener(CompletableFuture<Void> end) {
      this.end = end;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        handle(ServerProcess.parse(partial.toString()));
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      end.complete(null);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      end.complete(null);
    }
  }

  /** For a test's summary line. */
  static String describe(List<ClusterWatcher> watchers) {
    List<Integer> reconnects = new ArrayList<>();
    watchers.forEach(w -> reconnects.add(w.reconnects()));
    return "watchers="
        + watchers.size()
        + " messages="
        + watchers.stream().mapToInt(ClusterWatcher::received).sum()
        + " reconnects="
        + reconnects;
  }
}
