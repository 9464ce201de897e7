package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.MutableClock;
import io.progresshub.core.Role;
import io.progresshub.server.internal.http.EventsResource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Publishing events, the job state machine over HTTP, history, cancel and batch publish. */
class RestEventsTest {
  private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-31T12:00:00Z"));
  @RegisterExtension static final TestServer server = TestServer.perClass(CLOCK);
  private static final RestClient rest = new RestClient(server);
  private static int unique;

  private static String newJob(String owner) {
    return server.createJob("events-" + (++unique), owner);
  }

  private static RestClient.Reply publish(String jobId, String json) {
    return rest.post("/api/jobs/" + jobId + "/events").token(server.publisher()).json(json).send();
  }

  private static JsonNode published(String jobId, String json) {
    RestClient.Reply reply = publish(jobId, json);
    assertThat(reply.status()).as("publish %s: %s", json, reply).isEqualTo(200);
    return reply.json();
  }

  /** The job's current state, as the publisher reads it. */
  private static JsonNode current(String jobId) {
    return rest.get("/api/jobs/" + jobId).token(server.publisher()).send().json();
  }

  private static RestClient.Reply cancel(String jobId, String token) {
    return rest.post("/api/jobs/" + jobId + "/cancel").token(token).send();
  }

  private static void assertError(RestClient.Reply reply, int status, String code) {
    assertThat(reply.status()).as("%s", reply).isEqualTo(status);
    assertThat(reply.code()).as("%s", reply).isEqualTo(code);
    assertThat(reply.json().path("error").asText()).isNotBlank();
  }

  // ---------------------------------------------------------------- publish

  @Test
  void publishAnswersTheNewStateAndTheNextSeq() {
    String id = newJob("alice");

    JsonNode queued = published(id, "{\"status\":\"queued\",\"message\":\"in line\"}");
    assertThat(queued.path("id").asText()).isEqualTo(id);
    assertThat(queued.path("seq").asLong()).isEqualTo(2);
    assertThat(queued.path("status").asText()).isEqualTo("queued");
    assertThat(queued.path("message").asText()).isEqualTo("in line");

    JsonNode staged =
        published(id, "{\"stage\":\"transcribe\",\"metadata\":{\"lang\":\"en\",\"n\":1}}");
    assertThat(staged.path("seq").asLong()).isEqualTo(3);
    assertThat(staged.path("stage").asText()).isEqualTo("transcribe");
    assertThat(staged.path("message").asText()).as("kept from before").isEqualTo("in line");

    JsonNode merged = published(id, "{\"metadata\":{\"n\":2,\"lang\":null}}");
    assertThat(merged.path("seq").asLong()).isEqualTo(4);
    assertThat(merged.path("metadata")).isEqualTo(RestClient.JSON.valueToTree(Map.of("n", 2)));
  }

  @Test
  void progressOnAPendingJobStartsIt() {
    String id = newJob("alice");

    JsonNode started = published(id, "{\"progress\":5}");

    assertThat(started.path("status").asText()).isEqualTo("in_progress");
    assertThat(started.path("progress").asDouble()).isEqualTo(5.0);
    assertThat(started.path("started_at").asText()).isEqualTo(CLOCK.instant().toString());
  }

  @Test
  void etaIsExtrapolatedFromTheRateSinceTheJobStarted() {
    String id = newJob("alice");
    published(id, "{\"progress\":20}");
    CLOCK.advance(Duration.ofSeconds(10));

    JsonNode later = published(id, "{\"progress\":60}");

    // 40 points in 10 s: the remaining 40 points take another 10 s.
    assertThat(later.path("eta_seconds").asDouble()).isEqualTo(10.0);
    assertThat(later.path("elapsed_seconds").asDouble()).isEqualTo(10.0);

    JsonNode reported = published(id, "{\"progress\":70,\"eta_seconds\":42.5}");
    assertThat(reported.path("eta_seconds").asDouble())
        .as("the producer's ETA wins")
        .isEqualTo(42.5);
  }

  @Test
  void completingSetsProgressTo100AndKeepsTheResult() {
    String id = newJob("alice");
    published(id, "{\"progress\":30}");

    JsonNode done =
        published(id, "{\"status\":\"completed\",\"result\":{\"captions\":\"s3://bucket/c.vtt\"}}");

    assertThat(done.path("status").asText()).isEqualTo("completed");
    assertThat(done.path("progress").asDouble()).isEqualTo(100.0);
    assertThat(done.path("result").path("captions").asText()).isEqualTo("s3://bucket/c.vtt");
    assertThat(done.path("eta_seconds").asDouble()).isZero();
    assertThat(done.path("finished_at").isNull()).isFalse();
    assertThat(current(id)).isEqualTo(done);
  }

  @Test
  void failingCarriesTheError() {
    String id = newJob("alice");

    JsonNode failed = published(id, "{\"status\":\"failed\",\"error\":\"disk full\"}");

    assertThat(failed.path("status").asText()).isEqualTo("failed");
    assertThat(failed.path("error").asText()).isEqualTo("disk full");
    assertThat(failed.has("result")).isFalse();
  }

  @Test
  void anEventAfterTheTerminalStateIsAConflict() {
    String completed = newJob("alice");
    published(completed, "{\"status\":\"in_progress\"}");
    long finalSeq = published(completed, "{\"status\":\"completed\"}").path("seq").asLong();

    assertError(publish(completed, "{\"progress\":50}"), 409, "job_finished");
    assertError(publish(completed, "{\"status\":\"failed\"}"), 409, "job_finished");

    String cancelled = newJob("alice");
    cancel(cancelled, server.publisher());
    assertError(publish(cancelled, "{\"progress\":50}"), 409, "job_cancelled");

    assertThat(current(completed).path("seq").asLong())
        .as("refused events take no seq")
        .isEqualTo(finalSeq);
  }

  @Test
  void aTransitionTheStateMachineForbidsIsAConflict() {
    String id = newJob("alice");
    published(id, "{\"status\":\"queued\"}");
    assertError(publish(id, "{\"status\":\"completed\"}"), 409, "invalid_transition");
    assertError(publish(id, "{\"status\":\"pending\"}"), 409, "invalid_transition");
    published(id, "{\"status\":\"in_progress\"}");
    assertError(publish(id, "{\"status\":\"queued\"}"), 409, "invalid_transition");
  }

  @Test
  void progressOutsideZeroToHundredIsRejected() {
    String id = newJob("alice");
    for (String progress : List.of("150", "-1", "100.5")) {
      RestClient.Reply reply = publish(id, "{\"progress\":" + progress + "}");
      assertError(reply, 400, "invalid_request");
      assertThat(reply.json().path("error").asText()).contains("progress");
    }
    assertThat(published(id, "{\"progress\":100}").path("seq").asLong()).isEqualTo(2);
  }

  @Test
  void aFieldOfTheWrongTypeIsRejectedNamingTheField() {
    String id = newJob("alice");
    Map<String, String> bad =
        Map.of(
            "progress", "\"fifty\"",
            "status", "3",
            "stage", "{\"a\":1}",
            "message", "true",
            "metadata", "[1,2]",
            "error", "42",
            "eta_seconds", "\"soon\"",
            "event_id", "7");
    bad.forEach(
        (field, value) -> {
          RestClient.Reply reply = publish(id, "{\"" + field + "\":" + value + "}");
          assertError(reply, 400, "invalid_request");
          assertThat(reply.json().path("error").asText()).as(field).startsWith(field + ":");
        });
    assertThat(current(id).path("seq").asLong()).isEqualTo(1);
  }

  @Test
  void anUnknownStatusOrFieldIsRejected() {
    String id = newJob("alice");
    RestClient.Reply status = publish(id, "{\"status\":\"running\"}");
    assertError(status, 400, "invalid_request");
    assertThat(status.json().path("error").asText()).contains("running");

    RestClient.Reply field = publish(id, "{\"percent\":10}");
    assertError(field, 400, "invalid_request");
    assertThat(field.json().path("error").asText()).contains("percent");
  }

  @Test
  void aResultWithoutCompletionOrAnErrorWithoutFailureIsRejected() {
    String id = newJob("alice");
    assertError(publish(id, "{\"progress\":10,\"result\":{\"x\":1}}"), 400, "invalid_request");
    assertError(publish(id, "{\"progress\":10,\"error\":\"oops\"}"), 400, "invalid_request");
  }

  @Test
  void publishingToAnUnknownJobIs404() {
    assertError(publish("never-created", "{\"progress\":10}"), 404, "job_not_found");
  }

  @Test
  void subscribersMayNotPublish() {
    String id = newJob("alice");
    RestClient.Reply reply =
        rest.post("/api/jobs/" + id + "/events")
            .token(server.token("alice", Role.SUBSCRIBER))
            .json("{\"progress\":10}")
            .send();
    assertError(reply, 403, "forbidden");
  }

  @Test
  void aRetriedEventIdGetsTheOriginalAnswerAndIsRecordedOnce() {
    String id = newJob("alice");
    String event = "{\"status\":\"in_progress\",\"stage\":\"decode\",\"event_id\":\"evt-1\"}";

    JsonNode first = published(id, event);
    JsonNode retry = published(id, event);

    assertThat(retry).isEqualTo(first);
    assertThat(first.path("seq").asLong()).isEqualTo(2);
    assertThat(published(id, "{\"progress\":10}").path("seq").asLong())
        .as("the retry took no seq")
        .isEqualTo(3);
    assertThat(published(id, event))
        .as("still the original answer after later events")
        .isEqualTo(first);
    assertThat(seqs(history(id, ""))).containsExactly(1L, 2L, 3L);
  }

  // ---------------------------------------------------------------- history

  @Test
  void historyHasEveryTransitionAndTheLatestTickInSeqOrder() {
    String id = newJob("alice");
    published(id, "{\"status\":\"queued\"}"); // 2
    published(id, "{\"progress\":10,\"stage\":\"decode\"}"); // 3 started
    published(id, "{\"progress\":20}"); // 4 tick
    published(id, "{\"progress\":30}"); // 5 tick
    published(id, "{\"stage\":\"encode\",\"progress\":50}"); // 6 stage change
    published(id, "{\"progress\":80,\"message\":\"almost\"}"); // 7 tick
    published(id, "{\"status\":\"completed\",\"result\":{\"url\":\"s3://out\"}}"); // 8

    JsonNode body = history(id, "");
    assertThat(body.path("job_id").asText()).isEqualTo(id);
    List<Long> seqs = seqs(body);
    assertThat(seqs).isSorted().doesNotHaveDuplicates().contains(1L, 2L, 3L, 6L, 7L, 8L);

    for (JsonNode entry : body.path("events")) {
      assertThat(entry.path("type").asText()).isEqualTo("progress");
      assertThat(entry.path("job_id").asText()).isEqualTo(id);
      for (String field :
          List.of(
              "seq",
              "status",
              "progress",
              "stage",
              "message",
              "eta_seconds",
              "elapsed_seconds",
              "timestamp",
              "metadata")) {
        assertThat(entry.has(field)).as("%s in %s", field, entry).isTrue();
      }
      assertThat(entry.has("replay")).isFalse();
    }
    JsonNode last = body.path("events").get(body.path("events").size() - 1);
    assertThat(last.path("status").asText()).isEqualTo("completed");
    assertThat(last.path("result").path("url").asText()).isEqualTo("s3://out");
    JsonNode encode = entry(body, 6);
    assertThat(encode.path("stage").asText()).isEqualTo("encode");
    assertThat(encode.path("status").asText()).isEqualTo("in_progress");
    assertThat(entry(body, 7).path("message").asText()).isEqualTo("almost");

    assertThat(seqs(history(id, "?since=6"))).containsExactly(7L, 8L);
    assertThat(seqs(history(id, "?since=8"))).isEmpty();
    assertThat(seqs(history(id, "?since=0&limit=2"))).containsExactly(1L, 2L);
  }

  @Test
  void historyHasTheSameShapeAsTheWebSocketProgressMessage() {
    String id = newJob("alice");
    published(id, "{\"progress\":40,\"message\":\"chunk 4/10\"}");
    try (WsClient client =
        server.connect("/ws/" + id + "?token=" + server.token("alice", Role.SUBSCRIBER))) {
      client.next("connection_established");
      client.next("subscribed");
      JsonNode progress = client.next("progress");
      ((com.fasterxml.jackson.databind.node.ObjectNode) progress).remove("replay");

      assertThat(entry(history(id, ""), 2)).isEqualTo(progress);
    }
  }

  @Test
  void historyOfAnotherUsersJobIsNotFoundExactlyLikeAnUnknownJob() {
    String id = newJob("alice");
    RestClient.Reply other =
        rest.get("/api/jobs/" + id + "/events").token(server.token("bob", Role.SUBSCRIBER)).send();
    assertError(other, 404, "job_not_found");
    assertThat(other.json().has("events")).isFalse();

    assertThat(
            rest.get("/api/jobs/" + id + "/events")
                .token(server.token("alice", Role.SUBSCRIBER))
                .send()
                .status())
        .isEqualTo(200);
    assertError(
        rest.get("/api/jobs/nope/events").token(server.publisher()).send(), 404, "job_not_found");
    assertError(
        rest.get("/api/jobs/" + id + "/events?since=x").token(server.publisher()).send(),
        400,
        "invalid_request");
  }

  // ---------------------------------------------------------------- cancel

  @Test
  void theOwningSubscriberMayCancelItsJob() {
    String id = newJob("alice");
    published(id, "{\"progress\":10}");

    RestClient.Reply reply = cancel(id, server.token("alice", Role.SUBSCRIBER));

    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    assertThat(reply.json().path("status").asText()).isEqualTo("cancelled");
    assertThat(reply.json().path("seq").asLong()).isEqualTo(3);
    assertError(publish(id, "{\"progress\":20}"), 409, "job_cancelled");
    assertError(cancel(id, server.publisher()), 409, "job_cancelled");
  }

  @Test
  void anotherUserMayNotCancelAndLearnsNothingOfTheJob() {
    String id = newJob("alice");
    published(id, "{\"progress\":10,\"message\":\"secret-message\"}");

    RestClient.Reply reply = cancel(id, server.token("bob", Role.SUBSCRIBER));

    assertError(reply, 404, "job_not_found");
    assertThat(reply.json().properties())
        .extracting(Map.Entry::getKey)
        .containsExactlyInAnyOrder("error", "code");
    assertThat(reply.body()).doesNotContain("secret-message", "alice", "in_progress");
    assertThat(current(id).path("status").asText()).isEqualTo("in_progress");
  }

  @Test
  void aPublisherMayCancelAnyJob() {
    String id = newJob("alice");
    RestClient.Reply reply = cancel(id, server.publisher());
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("status").asText()).isEqualTo("cancelled");
  }

  // ---------------------------------------------------------------- batch

  @Test
  void batchAnswersEachEventInOrder() {
    String a = newJob("alice");
    String c = newJob("alice");
    String body =
        "{\"events\":["
            + "{\"job_id\":\""
            + a
            + "\",\"progress\":10},"
            + "{\"job_id\":\""
            + a
            + "\",\"progress\":150},"
            + "{\"job_id\":\"missing-job\",\"progress\":10},"
            + "{\"progress\":10},"
            + "{\"job_id\":\""
            + c
            + "\",\"status\":\"queued\"},"
            + "42,"
            + "{\"job_id\":\""
            + a
            + "\",\"status\":\"completed\"},"
            + "{\"job_id\":\""
            + a
            + "\",\"progress\":20},"
            + "{\"job_id\":\"bad id\",\"progress\":20}"
            + "]}";

    RestClient.Reply reply =
        rest.post("/api/events/batch").token(server.publisher()).json(body).send();

    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    JsonNode results = reply.json().path("results");
    assertThat(results).hasSize(9);
    assertResult(results.get(0), a, 2, "in_progress");
    assertRejected(results.get(1), "invalid_request");
    assertRejected(results.get(2), "job_not_found");
    assertThat(results.get(2).path("job_id").asText()).isEqualTo("missing-job");
    assertRejected(results.get(3), "invalid_request");
    assertResult(results.get(4), c, 2, "queued");
    assertRejected(results.get(5), "invalid_request");
    assertResult(results.get(6), a, 3, "completed");
    assertRejected(results.get(7), "job_finished");
    assertRejected(results.get(8), "invalid_job_id");
    assertThat(reply.json().path("accepted").asInt()).isEqualTo(3);
    assertThat(reply.json().path("rejected").asInt()).isEqualTo(6);

    assertThat(seqs(history(a, ""))).containsExactly(1L, 2L, 3L);
  }

  @Test
  void batchMustHoldOneToAThousandEvents() {
    String id = newJob("alice");
    assertError(
        rest.post("/api/events/batch").token(server.publisher()).json("{\"events\":[]}").send(),
        400,
        "invalid_request");
    assertError(
        rest.post("/api/events/batch").token(server.publisher()).json("{}").send(),
        400,
        "invalid_request");

    StringBuilder tooMany = new StringBuilder("{\"events\":[");
    for (int i = 0; i <= EventsResource.MAX_BATCH; i++) {
      tooMany.append(i == 0 ? "" : ",").append("{\"job_id\":\"").append(id).append("\"}");
    }
    RestClient.Reply reply =
        rest.post("/api/events/batch")
            .token(server.publisher())
            .json(tooMany.append("]}").toString())
            .send();
    assertError(reply, 400, "invalid_request");
    assertThat(reply.json().path("error").asText()).contains("1001");
    assertThat(current(id).path("seq").asLong())
        .as("nothing of a refused batch is applied")
        .isEqualTo(1);
  }

  @Test
  void subscribersMayNotBatchPublish() {
    String id = newJob("alice");
    assertError(
        rest.post("/api/events/batch")
            .token(server.token("alice", Role.SUBSCRIBER))
            .json("{\"events\":[{\"job_id\":\"" + id + "\",\"progress\":1}]}")
            .send(),
        403,
        "forbidden");
  }

  // ---------------------------------------------------------------- helpers

  private static void assertResult(JsonNode result, String jobId, long seq, String status) {
    assertThat(result.path("ok").asBoolean()).as("%s", result).isTrue();
    assertThat(result.path("job_id").asText()).isEqualTo(jobId);
    assertThat(result.path("seq").asLong()).isEqualTo(seq);
    assertThat(result.path("status").asText()).isEqualTo(status);
  }

  private static void assertRejected(JsonNode result, String code) {
    assertThat(result.path("ok").asBoolean()).as("%s", result).isFalse();
    assertThat(result.path("code").asText()).as("%s", result).isEqualTo(code);
    assertThat(result.path("error").asText()).isNotBlank();
  }

  private static JsonNode history(String jobId, String query) {
    RestClient.Reply reply =
        rest.get("/api/jobs/" + jobId + "/events" + query).token(server.publisher()).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    return reply.json();
  }

  private static List<Long> seqs(JsonNode history) {
    List<Long> seqs = new ArrayList<>();
    history.path("events").forEach(entry -> seqs.add(entry.path("seq").asLong()));
    return seqs;
  }

  private static JsonNode entry(JsonNode history, long seq) {
    for (JsonNode entry : history.path("events")) {
      if (entry.path("seq").asLong() == seq) {
        return entry;
      }
    }
    throw new AssertionError("no seq " + seq + " in " + history);
  }
}
