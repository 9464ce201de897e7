package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /api/jobs/{id}/stream}: a job's states as Server-Sent Events, resumable by seq. */
class SseStreamTest {
  // A short heartbeat so the comment shows up quickly; the events do not depend on it.
  @RegisterExtension
  static final TestServer server =
      TestServer.perClass(TestServer.heartbeat(Duration.ofMillis(200)));

  private static final RestClient rest = new RestClient(server);
  private static int unique;

  private static String newJob(String owner) {
    return server.createJob("sse-" + (++unique), owner);
  }

  private static long publish(String jobId, String json) {
    RestClient.Reply reply =
        rest.post("/api/jobs/" + jobId + "/events").token(server.publisher()).json(json).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    return reply.json().path("seq").asLong();
  }

  private static SseClient stream(String jobId, String owner, Map<String, String> headers) {
    return SseClient.open(
        server.port(),
        "/api/jobs/" + jobId + "/stream?token=" + server.token(owner, Role.SUBSCRIBER),
        headers);
  }

  private static List<Long> seqs(List<SseClient.Event> events) {
    return events.stream().map(SseClient.Event::seq).toList();
  }

  @Test
  void theStreamSendsTheCurrentStateThenLiveEventsAndEndsAfterTheTerminalState() {
    String id = newJob("alice");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.head.header("content-type").orElseThrow()).startsWith("text/event-stream");
      assertThat(sse.head.header("cache-control")).hasValue("no-cache");

      SseClient.Event current = sse.next();
      assertThat(current.id()).isEqualTo("1");
      assertThat(current.event()).isEqualTo("progress");
      assertThat(current.json().path("type").asText()).isEqualTo("progress");
      assertThat(current.json().path("status").asText()).isEqualTo("pending");

      publish(id, "{\"progress\":25,\"message\":\"a quarter\"}");
      SseClient.Event live = sse.next();
      assertThat(live.seq()).isEqualTo(2);
      JsonNode state = live.json();
      assertThat(state.path("job_id").asText()).isEqualTo(id);
      assertThat(state.path("seq").asLong()).isEqualTo(2);
      assertThat(state.path("status").asText()).isEqualTo("in_progress");
      assertThat(state.path("progress").asDouble()).isEqualTo(25.0);
      assertThat(state.path("message").asText()).isEqualTo("a quarter");
      assertThat(state.has("replay")).isFalse();

      publish(id, "{\"status\":\"completed\",\"result\":{\"pages\":3}}");
      List<SseClient.Event> rest = sse.eventsUntilEnd();
      assertThat(seqs(rest)).containsExactly(3L);
      assertThat(rest.get(0).json().path("status").asText()).isEqualTo("completed");
      assertThat(rest.get(0).json().path("result").path("pages").asInt()).isEqualTo(3);
      assertThat(sse.awaitEnd().clean()).as("ended with the last chunk").isTrue();
    }
  }

  @Test
  void theTokenMayComeInTheAuthorizationHeader() {
    String id = newJob("alice");
    try (SseClient sse =
        SseClient.open(
            server.port(),
            "/api/jobs/" + id + "/stream",
            Map.of("Authorization", "Bearer " + server.token("alice", Role.SUBSCRIBER)))) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.next().seq()).isEqualTo(1);
    }
  }

  @Test
  void eventDataHasTheSameShapeAsHistoryEntries() {
    String id = newJob("alice");
    publish(id, "{\"progress\":10,\"stage\":\"decode\",\"metadata\":{\"k\":\"v\"}}");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      JsonNode streamed = sse.next().json();
      JsonNode history =
          rest.get("/api/jobs/" + id + "/events?since=1")
              .token(server.publisher())
              .send()
              .json()
              .path("events")
              .get(0);
      assertThat(streamed).isEqualTo(history);
    }
  }

  @Test
  void lastEventIdReplaysExactlyTheStatesAfterItInOrder() {
    String id = newJob("alice");
    publish(id, "{\"status\":\"queued\"}"); // 2
    publish(id, "{\"progress\":10,\"stage\":\"one\"}"); // 3
    publish(id, "{\"progress\":40,\"stage\":\"two\"}"); // 4
    publish(id, "{\"progress\":70,\"stage\":\"three\"}"); // 5
    publish(id, "{\"status\":\"completed\"}"); // 6

    try (SseClient sse = stream(id, "alice", Map.of("Last-Event-ID", "2"))) {
      assertThat(sse.status()).isEqualTo(200);
      List<SseClient.Event> events = sse.eventsUntilEnd();
      assertThat(seqs(events)).containsExactly(3L, 4L, 5L, 6L);
      assertThat(events)
          .extracting(event -> event.json().path("stage").asText())
          .containsExactly("one", "two", "three", "three");
    }
  }

  @Test
  void resumingALiveJobReplaysTheGapThenContinuesLive() {
    String id = newJob("alice");
    long seen;
    try (SseClient first = stream(id, "alice", Map.of())) {
      publish(id, "{\"progress\":10,\"stage\":\"a\"}");
      assertThat(first.next().seq()).isEqualTo(1);
      seen = first.next().seq();
      assertThat(seen).isEqualTo(2);
    }
    // The connection dropped; meanwhile the job moved on.
    publish(id, "{\"stage\":\"b\"}"); // 3
    publish(id, "{\"stage\":\"c\"}"); // 4

    try (SseClient resumed = stream(id, "alice", Map.of("Last-Event-ID", Long.toString(seen)))) {
      assertThat(resumed.next().seq()).isEqualTo(3);
      assertThat(resumed.next().seq()).isEqualTo(4);
      publish(id, "{\"progress\":50}"); // 5
      publish(id, "{\"status\":\"failed\",\"error\":\"gpu lost\"}"); // 6
      List<SseClient.Event> tail = resumed.eventsUntilEnd();
      assertThat(seqs(tail)).containsExactly(5L, 6L);
      assertThat(tail.get(1).json().path("error").asText()).isEqualTo("gpu lost");
    }
  }

  @Test
  void lastEventIdAtTheCurrentSeqOfALiveJobSendsNothingTwice() {
    String id = newJob("alice");
    publish(id, "{\"progress\":10}"); // 2
    long current = publish(id, "{\"progress\":20}"); // 3

    try (SseClient resumed = stream(id, "alice", Map.of("Last-Event-ID", Long.toString(current)))) {
      assertThat(resumed.status()).isEqualTo(200);
      publish(id, "{\"progress\":30}"); // 4
      assertThat(resumed.next().seq())
          .as("the first event after the one the client had")
          .isEqualTo(4);
    }
  }

  @Test
  void sinceInTheQueryWorksLikeLastEventId() {
    String id = newJob("alice");
    publish(id, "{\"stage\":\"x\"}"); // 2
    publish(id, "{\"status\":\"cancelled\"}"); // 3
    try (SseClient sse =
        SseClient.open(
            server.port(),
            "/api/jobs/"
                + id
                + "/stream?since=1&token="
                + server.token("alice", Role.SUBSCRIBER))) {
      assertThat(seqs(sse.eventsUntilEnd())).containsExactly(2L, 3L);
    }
  }

  @Test
  void aFinishedJobWithoutLastEventIdYieldsItsTerminalStateAndEnds() {
    String id = newJob("alice");
    long last = publish(id, "{\"status\":\"failed\"}");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(seqs(sse.eventsUntilEnd())).containsExactly(last);
      assertThat(sse.awaitEnd().clean()).isTrue();
    }
  }

  @Test
  void lastEventIdAtOrAfterTheFinalSeqOfAFinishedJobIs204() {
    String id = newJob("alice");
    publish(id, "{\"progress\":50}");
    long last = publish(id, "{\"status\":\"completed\"}");

    for (long lastEventId : List.of(last, last + 5)) {
      try (SseClient sse =
          stream(id, "alice", Map.of("Last-Event-ID", Long.toString(lastEventId)))) {
        assertThat(sse.status()).as("Last-Event-ID %s", lastEventId).isEqualTo(204);
      }
    }
  }

  @Test
  void anotherUsersJobIsNotFoundWithoutItsData() {
    String id = newJob("alice");
    publish(id, "{\"progress\":33,\"message\":\"alice-secret\"}");
    try (SseClient sse = stream(id, "bob", Map.of())) {
      assertThat(sse.status()).isEqualTo(404);
      assertThat(sse.response.body()).contains("\"code\":\"job_not_found\"");
      assertThat(sse.response.body()).doesNotContain("alice-secret", "in_progress");
    }
  }

  @Test
  void aStreamWithoutATokenOrForAnUnknownJobIsRefused() {
    String id = newJob("alice");
    try (SseClient sse = SseClient.open(server.port(), "/api/jobs/" + id + "/stream")) {
      assertThat(sse.status()).isEqualTo(401);
      assertThat(sse.response.body()).contains("\"code\":\"unauthorized\"");
    }
    try (SseClient sse = stream("sse-never-created", "alice", Map.of())) {
      assertThat(sse.status()).isEqualTo(404);
      assertThat(sse.response.body()).contains("\"code\":\"job_not_found\"");
    }
    try (SseClient sse = stream(id, "alice", Map.of("Last-Event-ID", "abc"))) {
      assertThat(sse.status()).isEqualTo(400);
    }
  }

  @Test
  void anIdleStreamGetsHeartbeatComments() {
    String id = newJob("alice");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(sse.next().seq()).isEqualTo(1);
      assertThat(sse.nextComment().text()).isEqualTo("heartbeat");
      assertThat(sse.nextComment().text()).isEqualTo("heartbeat");
    }
  }

  @Test
  void aClosedStreamReleasesItsConnectionAndSubscription() {
    String id = newJob("alice");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(sse.next().seq()).isEqualTo(1);
      JsonNode open = stats();
      assertThat(open.path("open").asInt()).isPositive();
      assertThat(open.path("subscriptions").asInt()).isPositive();
    }
    await()
        .atMost(SseClient.WAIT)
        .untilAsserted(
            () -> {
              JsonNode closed = stats();
              assertThat(closed.path("open").asInt()).isZero();
              assertThat(closed.path("subscriptions").asInt()).isZero();
            });
  }

  private static JsonNode stats() {
    return rest.get("/api/stats").token(server.admin()).send().json().path("connections");
  }

  @Test
  void aRetriedEventIsStreamedOnce() {
    String id = newJob("alice");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(sse.next().seq()).isEqualTo(1);
      String event = "{\"progress\":10,\"event_id\":\"retry-me\"}";
      publish(id, event);
      publish(id, event);
      publish(id, "{\"status\":\"completed\"}");
      assertThat(seqs(sse.eventsUntilEnd())).containsExactly(2L, 3L);
    }
  }

  @Test
  void deletingTheJobEndsTheStreamWithAnError() {
    String id = newJob("alice");
    try (SseClient sse = stream(id, "alice", Map.of())) {
      assertThat(sse.next().seq()).isEqualTo(1);

      assertThat(rest.delete("/api/jobs/" + id).token(server.publisher()).send().status())
          .isEqualTo(204);

      SseClient.Event error = sse.next();
      assertThat(error.event()).isEqualTo("error");
      assertThat(error.json().path("code").asText()).isEqualTo("job_not_found");
      assertThat(sse.eventsUntilEnd()).isEmpty();
    }
  }
}
