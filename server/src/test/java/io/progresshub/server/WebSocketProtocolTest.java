package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.JobStatus;
import io.progresshub.core.NewJob;
import io.progresshub.core.Role;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Protocol v1 message by message, against a real server: docs/protocol.md. */
class WebSocketProtocolTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static WsClient open(String path, String user) {
    String separator = path.contains("?") ? "&" : "?";
    return server.connect(path + separator + "token=" + server.token(user, Role.SUBSCRIBER));
  }

  /** Opens the multiplexed endpoint and reads past {@code connection_established}. */
  private static WsClient multiplexed(String user) {
    WsClient client = open("/ws", user);
    client.next("connection_established");
    return client;
  }

  private static void subscribe(WsClient client, String jobId, String id) {
    command(client, "subscribe", jobId, id);
  }

  /** Sends a {@code type} command for {@code jobId} with request id {@code id}. */
  private static void command(WsClient client, String type, String jobId, String id) {
    client.send("{\"type\":\"" + type + "\",\"job_id\":\"" + jobId + "\",\"id\":\"" + id + "\"}");
  }

  /** Reads the next message: an {@code error} with {@code code} that echoes request {@code id}. */
  private static JsonNode nextError(WsClient client, String code, String id) {
    JsonNode error = client.next("error");
    assertThat(error.path("code").asText()).isEqualTo(code);
    assertThat(error.path("id").asText()).isEqualTo(id);
    return error;
  }

  private static void publishOk(String jobId, String json) {
    HttpResponse<String> response = server.publish(jobId, json);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  private static void assertTimestamp(JsonNode node) {
    String text = node.path("timestamp").asText();
    assertThat(text).endsWith("Z");
    assertThat(Instant.parse(text)).isNotNull();
  }

  // ------------------------------------------------------------------ a job deleted while watched

  @Test
  void aJobDeletedWhileWatchedIsNamedByAnUnaskedUnsubscribedThenAnErrorAndOthersGoOn() {
    String doomed = server.newJob("dora");
    String kept = server.newJob("dora");
    publishOk(doomed, "{\"progress\":40}");
    try (WsClient client = multiplexed("dora")) {
      subscribe(client, doomed, "s1");
      client.next("subscribed");
      client.next("progress");
      subscribe(client, kept, "s2");
      client.next("subscribed");
      client.next("progress");

      assertThat(
              server.send("DELETE", "/api/jobs/" + doomed, server.publisher(), null).statusCode())
          .isEqualTo(204);

      JsonNode ended = client.next("unsubscribed");
      assertThat(ended.path("job_id").asText()).isEqualTo(doomed);
      assertThat(ended.path("status").asText()).isEqualTo("in_progress");
      assertThat(ended.path("seq").asLong()).isEqualTo(2);
      assertThat(ended.has("id")).as("not an answer to a request").isFalse();
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("job_not_found");
      assertThat(error.path("error").asText()).isEqualTo("job was deleted: " + doomed);
      publishOk(kept, "{\"progress\":5}");
      assertThat(client.next("progress").path("job_id").asText()).isEqualTo(kept);
    }
  }

  @Test
  void aJobDeletedWhileWatchedOnItsOwnEndpointClosesWith4404() {
    String doomed = server.newJob("dora");
    try (WsClient client = open("/ws/" + doomed, "dora")) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      server.send("DELETE", "/api/jobs/" + doomed, server.publisher(), null);
      assertThat(client.next("error").path("code").asText()).isEqualTo("job_not_found");
      assertThat(client.awaitClose()).isEqualTo(4404);
    }
  }

  // ------------------------------------------------------------------ connection_established

  @Test
  void firstMessageIsConnectionEstablishedWithIdHeartbeatIntervalAndTimestamp() {
    try (WsClient first = open("/ws", "alice");
        WsClient second = open("/ws", "alice")) {
      JsonNode hello = first.next();
      assertThat(hello.path("type").asText()).isEqualTo("connection_established");
      assertThat(hello.path("connection_id").asText()).isNotBlank();
      assertThat(hello.path("heartbeat_interval").isIntegralNumber()).isTrue();
      assertThat(hello.path("heartbeat_interval").asLong()).isEqualTo(25);
      assertTimestamp(hello);
      JsonNode other = second.next("connection_established");
      assertThat(other.path("connection_id").asText())
          .isNotEqualTo(hello.path("connection_id").asText());
    }
  }

  // ------------------------------------------------------------------ subscribed + progress

  @Test
  void subscribeIsAnsweredWithSubscribedThenTheCurrentStateAsReplay() {
    String job = server.newJob("alice");
    publishOk(job, "{\"progress\":30,\"stage\":\"download\"}");
    try (WsClient client = multiplexed("alice")) {
      subscribe(client, job, "s1");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("job_id").asText()).isEqualTo(job);
      assertThat(subscribed.path("status").asText()).isEqualTo("in_progress");
      assertThat(subscribed.path("seq").asLong()).isEqualTo(2);
      assertThat(subscribed.path("recovered").isBoolean()).isTrue();
      assertThat(subscribed.path("recovered").asBoolean()).isFalse();
      assertThat(subscribed.path("id").asText()).isEqualTo("s1");

      JsonNode current = client.next("progress");
      assertThat(current.path("job_id").asText()).isEqualTo(job);
      assertThat(current.path("seq").asLong()).isEqualTo(2);
      assertThat(current.path("progress").asDouble()).isEqualTo(30.0);
      assertThat(current.path("stage").asText()).isEqualTo("download");
      assertThat(current.path("replay").asBoolean()).isTrue();
    }
  }

  @Test
  void progressCarriesTheFullJobStateAndTheResultOnceCompleted() {
    String job = "job-fields-" + System.nanoTime();
    server.hub.create(
        NewJob.builder().id(job).owner("alice").metadata(Map.of("file", "talk.mp4")).build());
    try (WsClient client = multiplexed("alice")) {
      subscribe(client, job, "s1");
      client.next("subscribed");
      JsonNode pending = client.next("progress");
      assertThat(pending.path("status").asText()).isEqualTo("pending");
      assertThat(pending.has("stage")).as("stage present even when unset").isTrue();
      assertThat(pending.path("stage").isNull()).isTrue();

      publishOk(
          job,
          "{\"progress\":40,\"stage\":\"transcribe\",\"message\":\"chunk 4/10\","
              + "\"eta_seconds\":31.5,\"metadata\":{\"lang\":\"en\"}}");
      JsonNode live = client.next("progress");
      assertThat(live.path("job_id").asText()).isEqualTo(job);
      assertThat(live.path("seq").asLong()).isEqualTo(2);
      assertThat(live.path("status").asText()).isEqualTo("in_progress");
      assertThat(live.path("progress").asDouble()).isEqualTo(40.0);
      assertThat(live.path("stage").asText()).isEqualTo("transcribe");
      assertThat(live.path("message").asText()).isEqualTo("chunk 4/10");
      assertThat(live.path("eta_seconds").asDouble()).isEqualTo(31.5);
      assertThat(live.path("elapsed_seconds").isNumber()).isTrue();
      assertThat(live.path("elapsed_seconds").asDouble()).isGreaterThanOrEqualTo(0);
      assertTimestamp(live);
      assertThat(live.path("metadata").path("file").asText()).isEqualTo("talk.mp4");
      assertThat(live.path("metadata").path("lang").asText()).isEqualTo("en");
      assertThat(live.has("result")).isFalse();
      assertThat(live.has("error")).isFalse();
      assertThat(live.has("replay")).as("live states are not replay").isFalse();

      publishOk(job, "{\"status\":\"completed\",\"result\":{\"captions\":\"s3://b/talk.vtt\"}}");
      JsonNode done = client.next("progress");
      assertThat(done.path("seq").asLong()).isEqualTo(3);
      assertThat(done.path("status").asText()).isEqualTo("completed");
      assertThat(done.path("progress").asDouble()).isEqualTo(100.0);
      assertThat(done.path("result").path("captions").asText()).isEqualTo("s3://b/talk.vtt");
      assertThat(done.has("error")).isFalse();
      assertThat(done.path("stage").asText()).isEqualTo("transcribe");
    }
  }

  @Test
  void failedJobStateCarriesTheError() {
    String job = server.newJob("alice");
    try (WsClient client = open("/ws/" + job, "alice")) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      publishOk(job, "{\"status\":\"failed\",\"error\":\"codec not supported\"}");
      JsonNode failed = client.next("progress");
      assertThat(failed.path("status").asText()).isEqualTo("failed");
      assertThat(failed.path("error").asText()).isEqualTo("codec not supported");
      assertThat(failed.has("result")).isFalse();
    }
  }

  // ------------------------------------------------------------------ ping / pong

  @Test
  void pingIsAnsweredWithPongEchoingTheId() {
    try (WsClient client = multiplexed("alice")) {
      client.send("{\"type\":\"ping\",\"id\":\"p1\"}");
      JsonNode pong = client.next("pong");
      assertThat(pong.path("id").asText()).isEqualTo("p1");
      assertTimestamp(pong);

      client.send("{\"type\":\"ping\",\"id\":7}");
      assertThat(client.next("pong").path("id").asText()).isEqualTo("7");

      client.send("{\"type\":\"ping\"}");
      assertThat(client.next("pong").has("id")).isFalse();
    }
  }

  // ------------------------------------------------------------------ unsubscribe

  @Test
  void unsubscribeConfirmsWithTheJobsStatusAndSeqAndStopsItsUpdates() {
    String dropped = server.newJob("alice");
    String kept = server.newJob("alice");
    publishOk(dropped, "{\"progress\":10}");
    try (WsClient client = multiplexed("alice")) {
      subscribe(client, dropped, "s1");
      client.next("subscribed");
      client.next("progress");
      subscribe(client, kept, "s2");
      client.next("subscribed");
      client.next("progress");

      command(client, "unsubscribe", dropped, "u1");
      JsonNode unsubscribed = client.next("unsubscribed");
      assertThat(unsubscribed.path("job_id").asText()).isEqualTo(dropped);
      assertThat(unsubscribed.path("status").asText()).isEqualTo("in_progress");
      assertThat(unsubscribed.path("seq").asLong()).isEqualTo(2);
      assertThat(unsubscribed.path("id").asText()).isEqualTo("u1");

      // Fan-out keeps publish order, so the kept job's update arriving first proves the
      // dropped job's update was not delivered.
      publishOk(dropped, "{\"progress\":20}");
      publishOk(kept, "{\"progress\":20}");
      JsonNode next = client.next("progress");
      assertThat(next.path("job_id").asText()).isEqualTo(kept);
    }
  }

  @Test
  void unsubscribeFromAJobNotSubscribedIsAnErrorAndTheConnectionStaysOpen() {
    String job = server.newJob("alice");
    try (WsClient client = multiplexed("alice")) {
      command(client, "unsubscribe", job, "u9");
      JsonNode error = nextError(client, "not_subscribed", "u9");
      assertThat(error.has("job_id")).isFalse();
      client.assertOpen();
    }
  }

  // ------------------------------------------------------------------ cancel

  @Test
  void cancelByTheOwnerCancelsTheJobAndTheWorkersNextPublishGets409JobCancelled() {
    String job = server.newJob("alice");
    publishOk(job, "{\"progress\":10}");
    try (WsClient client = multiplexed("alice")) {
      subscribe(client, job, "s1");
      client.next("subscribed");
      client.next("progress");

      command(client, "cancel", job, "c1");
      // The reply and the job's new state travel separately; both come, in either order.
      JsonNode cancelled = null;
      JsonNode state = null;
      while (cancelled == null || state == null) {
        JsonNode message = client.nextSkippingHeartbeats();
        switch (message.path("type").asText()) {
          case "cancelled" -> cancelled = message;
          case "progress" -> state = message;
          default -> throw new AssertionError("unexpected " + message);
        }
      }
      assertThat(cancelled.path("job_id").asText()).isEqualTo(job);
      assertThat(cancelled.path("status").asText()).isEqualTo("cancelled");
      assertThat(cancelled.path("seq").asLong()).isEqualTo(3);
      assertThat(cancelled.path("id").asText()).isEqualTo("c1");
      assertThat(state.path("status").asText()).isEqualTo("cancelled");
      assertThat(state.path("seq").asLong()).isEqualTo(3);
    }
    assertThat(server.hub.get(job).status()).isEqualTo(JobStatus.CANCELLED);
    HttpResponse<String> next = server.publish(job, "{\"progress\":20}");
    assertThat(next.statusCode()).isEqualTo(409);
    assertThat(next.body()).contains("\"code\":\"job_cancelled\"");
  }

  @Test
  void cancelOfAnotherUsersJobIsAnsweredLikeAnUnknownJobAndLeavesTheJobRunning() {
    String job = server.newJob("alice");
    try (WsClient client = multiplexed("mallory")) {
      command(client, "cancel", job, "c1");
      nextError(client, "job_not_found", "c1");
      client.assertOpen();
    }
    assertThat(server.hub.get(job).status()).isEqualTo(JobStatus.PENDING);
  }

  @Test
  void cancelOfAFinishedJobIsAnErrorJobFinished() {
    String job = server.newJob("alice");
    publishOk(job, "{\"progress\":50}");
    publishOk(job, "{\"status\":\"completed\"}");
    try (WsClient client = multiplexed("alice")) {
      command(client, "cancel", job, "c2");
      nextError(client, "job_finished", "c2");
      client.assertOpen();
    }
  }

  // ------------------------------------------------------------------ endpoints

  @Test
  void multiplexedConnectionWatchesSeveralJobsAndEveryJobMessageCarriesStatusAndSeq() {
    List<String> jobs = List.of(server.newJob("alice"), server.newJob("alice"));
    try (WsClient client = multiplexed("alice")) {
      List<JsonNode> seen = new ArrayList<>();
      for (String job : jobs) {
        subscribe(client, job, "s-" + job);
        seen.add(client.next("subscribed"));
        seen.add(client.next("progress"));
      }
      for (String job : jobs) {
        publishOk(job, "{\"progress\":50,\"stage\":\"work\"}");
      }
      Set<String> updated = new HashSet<>();
      while (updated.size() < jobs.size()) {
        JsonNode message = client.next("progress");
        assertThat(message.path("progress").asDouble()).isEqualTo(50.0);
        updated.add(message.path("job_id").asText());
        seen.add(message);
      }
      assertThat(updated).containsExactlyInAnyOrderElementsOf(jobs);
      client.send("{\"type\":\"unsubscribe\",\"job_id\":\"" + jobs.get(0) + "\"}");
      seen.add(client.next("unsubscribed"));
      for (JsonNode message : seen) {
        assertThat(message.has("job_id")).isTrue();
        assertThat(message.path("status").isTextual()).as("status in %s", message).isTrue();
        assertThat(message.path("seq").isIntegralNumber()).as("seq in %s", message).isTrue();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ws/", "/progress/ws/"})
  void singleJobEndpointsSubscribeOnOpenAndDeliverLiveStates(String prefix) {
    String job = server.newJob("alice");
    try (WsClient client = open(prefix + job, "alice")) {
      client.next("connection_established");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("job_id").asText()).isEqualTo(job);
      assertThat(subscribed.path("status").asText()).isEqualTo("pending");
      assertThat(subscribed.path("seq").asLong()).isEqualTo(1);
      assertThat(subscribed.path("recovered").asBoolean()).isFalse();
      assertThat(subscribed.has("id")).isFalse();
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(1);

      publishOk(job, "{\"progress\":5}");
      JsonNode live = client.next("progress");
      assertThat(live.path("seq").asLong()).isEqualTo(2);
      assertThat(live.path("status").asText()).isEqualTo("in_progress");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ws/", "/progress/ws/"})
  void singleJobEndpointsReplayTheTransitionsAfterSince(String prefix) {
    String job = server.newJob("alice");
    publishOk(job, "{\"progress\":10,\"stage\":\"download\"}"); // 2
    publishOk(job, "{\"stage\":\"transcribe\"}"); // 3
    publishOk(job, "{\"stage\":\"encode\",\"progress\":80}"); // 4
    try (WsClient client = open(prefix + job + "?since=2", "alice")) {
      client.next("connection_established");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("recovered").asBoolean()).isTrue();
      assertThat(subscribed.path("seq").asLong()).isEqualTo(4);
      JsonNode third = client.next("progress");
      JsonNode fourth = client.next("progress");
      assertThat(List.of(third.path("seq").asLong(), fourth.path("seq").asLong()))
          .containsExactly(3L, 4L);
      assertThat(third.path("stage").asText()).isEqualTo("transcribe");
      assertThat(third.path("replay").asBoolean()).isTrue();
      assertThat(fourth.path("stage").asText()).isEqualTo("encode");
      assertThat(fourth.path("replay").asBoolean()).isTrue();
      publishOk(job, "{\"progress\":90}");
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(5);
    }
  }

  @Test
  void subscribeTaskAndTaskIdAreAcceptedAsAliases() {
    String job = server.newJob("alice");
    try (WsClient client = multiplexed("alice")) {
      client.send("{\"type\":\"subscribe_task\",\"task_id\":\"" + job + "\",\"id\":\"t1\"}");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("job_id").asText()).isEqualTo(job);
      assertThat(subscribed.path("id").asText()).isEqualTo("t1");
      assertThat(client.next("progress").path("job_id").asText()).isEqualTo(job);

      client.send("{\"type\":\"unsubscribe_task\",\"task_id\":\"" + job + "\",\"id\":\"t2\"}");
      JsonNode unsubscribed = client.next("unsubscribed");
      assertThat(unsubscribed.path("job_id").asText()).isEqualTo(job);
      assertThat(unsubscribed.path("id").asText()).isEqualTo("t2");
    }
  }

  @Test
  void subscribingTwiceToTheSameJobRestartsTheStreamWithoutDuplicatingLiveStates() {
    String job = server.newJob("alice");
    try (WsClient client = multiplexed("alice")) {
      subscribe(client, job, "s1");
      client.next("subscribed");
      client.next("progress");
      subscribe(client, job, "s2");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s2");
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(1);

      publishOk(job, "{\"progress\":1}");
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(2);
      client.assertOpen(); // nothing else (no second copy of seq 2) came before the pong
    }
  }
}
