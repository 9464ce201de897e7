package io.progresshub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A producer that publishes over REST to the nodes of a cluster in turn, every event with an {@code
 * event_id}. When a node cannot be reached or answers 503 {@code store_unavailable}, it sends the
 * same event, same id, to the next node a moment later, as a worker with a list of nodes would. It
 * keeps every acknowledged event's seq, and counts the refusals.
 */
final class ClusterPublisher {

  private static final Duration RETRY_PAUSE = Duration.ofMillis(100);

  private final List<ServerProcess> nodes;
  private final String token;
  private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
  private final AtomicInteger unavailable = new AtomicInteger();
  private final AtomicLong slowestRefusalNanos = new AtomicLong();
  private final AtomicInteger unreachable = new AtomicInteger();
  private final List<String> unexpected = new CopyOnWriteArrayList<>();

  ClusterPublisher(List<ServerProcess> nodes, String token) {
    this.nodes = List.copyOf(nodes);
    this.token = token;
  }

  /**
   * Publishes {@code fields} (JSON members, without braces) with {@code eventId}, first to node
   * {@code first}, until a node acknowledges it or {@code patience} has passed.
   *
   * @return the job's state the acknowledging node answered
   */
  JsonNode publish(int first, String jobId, String eventId, String fields, Duration patience) {
    String body = "{\"event_id\":\"" + eventId + "\"," + fields + "}";
    long deadline = System.nanoTime() + patience.toNanos();
    for (int attempt = 0; ; attempt++) {
      ServerProcess node = nodes.get((first + attempt) % nodes.size());
      long sent = System.nanoTime();
      try {
        HttpResponse<String> response =
            node.post("/api/jobs/" + jobId + "/events", Optional.of(token), body);
        JsonNode answer = ServerProcess.parse(response.body());
        if (response.statusCode() == 200) {
          acknowledged.put(eventId, answer.path("seq").asLong());
          return answer;
        }
        if (response.statusCode() == 503
            && answer.path("code").asText().equals("store_unavailable")) {
          unavailable.incrementAndGet();
          slowestRefusalNanos.accumulateAndGet(System.nanoTime() - sent, Math::max);
        } else {
          unexpected.add(eventId + ": " + response.statusCode() + " " + response.body());
          throw new AssertionError(
              "publish " + eventId + " answered " + response.statusCode() + " " + response.body());
        }
      } catch (IOException e) {
        unreachable.incrementAndGet(); // a killed node: connection refused or reset
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no node acknowledged " + eventId + " within " + patience);
      }
      try {
        Thread.sleep(RETRY_PAUSE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** event id to the seq its acknowledgement named. */
  Map<String, Long> acknowledged() {
    return Map.copyOf(acknowledged);
  }

  int acknowledgedCount() {
    return acknowledged.size();
  }

  /** 503 {@code store_unavailable} answers seen. */
  int unavailable() {
    return unavailable.get();
  }

  /** The longest a 503 {@code store_unavailable} took to come. */
  Duration slowestRefusal() {
    return Duration.ofNanos(slowestRefusalNanos.get());
  }

  /** Publishes that found no node listening, or lost the connection. */
  int unreachable() {
    return unreachable.get();
  }

  /** Answers other than 200 and 503 {@code store_unavailable}. */
  List<String> unexpected() {
    return List.copyOf(unexpected);
  }
}
