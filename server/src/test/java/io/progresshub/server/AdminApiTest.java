package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin API over connections, with real WebSocket and SSE clients: who is connected and
 * watching what, forced disconnects, messages to a job's watchers, and readiness.
 */
class AdminApiTest {

  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static final RestClient rest = new RestClient(server);

  /** A subscriber's multiplexed connection, subscribed to {@code jobs}; returns its id. */
  private static WsClient watcher(String user, String... jobs) {
    WsClient client = server.connect("/ws?token=" + server.token(user, Role.SUBSCRIBER, jobs));
    client.next("connection_established");
    for (String job : jobs) {
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\"}");
      client.next("subscribed");
      client.next("progress");
    }
    return client;
  }

  private static JsonNode connections(String query) {
    RestClient.Reply reply = rest.get("/api/connections" + query).token(server.admin()).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    return reply.json();
  }

  private static List<String> ids(JsonNode list) {
    List<String> ids = new ArrayList<>();
    list.path("connections").forEach(c -> ids.add(c.path("id").asText()));
    return ids;
  }

  @Test
  void listsWhoIsConnectedFromWhereSinceWhenAndWatchingWhat() {
    String job = server.newJob("lister");
    try (WsClient ws = watcher("lister", job);
        SseClient sse =
            SseClient.open(
                server.port(),
                "/api/jobs/" + job + "/stream?token=" + server.token("lister", Role.SUBSCRIBER))) {
      sse.next();

      JsonNode list = connections("?user=lister");

      assertThat(list.path("total").asLong()).isEqualTo(2);
      List<JsonNode> entries =
          StreamSupport.stream(list.path("connections").spliterator(), false).toList();
      assertThat(entries)
          .extracting(e -> e.path("transport").asText())
          .containsExactlyInAnyOrder("websocket", "sse");
      for (JsonNode entry : entries) {
        assertThat(entry.path("id").asText()).startsWith("c-");
        assertThat(entry.path("user").asText()).isEqualTo("lister");
        assertThat(entry.path("role").asText()).isEqualTo("subscriber");
        assertThat(entry.path("remote_address").asText()).isEqualTo("127.0.0.1");
        assertThat(entry.path("connected_at").asText()).endsWith("Z");
        assertThat(entry.path("jobs").get(0).asText()).isEqualTo(job);
        assertThat(entry.path("subscriptions").asInt()).isEqualTo(1);
      }
      assertThat(ids(connections("?job=" + job))).containsExactlyInAnyOrderElementsOf(ids(list));
      assertThat(connections("?job=no-such-job").path("total").asLong()).isZero();
      assertThat(connections("?user=lister&limit=1").path("connections")).hasSize(1);
      assertThat(connections("?user=lister&offset=5").path("connections")).isEmpty();
    }
  }

  @Test
  void onlyAdminsMayUseTheAdminApi() {
    String subscriber = server.token("nosy", Role.SUBSCRIBER);
    String job = server.newJob("nosy");
    List<RestClient.Call> calls =
        List.of(
            rest.get("/api/connections"),
            rest.delete("/api/connections/c-1"),
            rest.delete("/api/users/nosy/connections"),
            rest.post("/api/jobs/" + job + "/broadcast").json("{\"data\":1}"));
    for (RestClient.Call call : calls) {
      RestClient.Reply reply = call.token(subscriber).send();
      assertThat(reply.status()).as("%s", reply).isEqualTo(403);
      assertThat(reply.code()).isEqualTo("forbidden");
    }
    RestClient.Reply publisher = rest.get("/api/connections").token(server.publisher()).send();
    assertThat(publisher.status()).isEqualTo(403);
    assertThat(rest.get("/api/connections").send().status()).isEqualTo(401);
  }

  @Test
  void aForcedDisconnectClosesWith4403AndTheReason() {
    String job = server.newJob("kicked");
    try (WsClient ws = watcher("kicked", job)) {
      String id = ids(connections("?user=kicked")).get(0);

      RestClient.Reply reply =
          rest.delete("/api/connections/" + id + "?reason=maintenance%20now")
              .token(server.admin())
              .send();

      assertThat(reply.status()).as("%s", reply).isEqualTo(200);
      assertThat(reply.json().path("disconnected").asInt()).isEqualTo(1);
      JsonNode error = ws.next("error");
      assertThat(error.path("code").asText()).isEqualTo("forbidden");
      assertThat(error.path("error").asText())
          .isEqualTo("disconnected by an administrator: maintenance now");
      assertThat(ws.awaitClose()).isEqualTo(4403);
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> connections("?user=kicked").path("total").asLong() == 0);
  }

  @Test
  void disconnectingAnUnknownConnectionIs404() {
    RestClient.Reply reply =
        rest.delete("/api/connections/c-doesnotexist").token(server.admin()).send();
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.code()).isEqualTo("connection_not_found");
  }

  @Test
  void aUsersSessionsEndTogetherAndOthersStay() {
    String job = server.newJob("many");
    String other = server.newJob("bystander");
    try (WsClient first = watcher("many", job);
        WsClient second = watcher("many");
        SseClient sse =
            SseClient.open(
                server.port(),
                "/api/jobs/" + job + "/stream?token=" + server.token("many", Role.SUBSCRIBER));
        WsClient bystander = watcher("bystander", other)) {
      sse.next();

      RestClient.Reply reply =
          rest.delete("/api/users/many/connections?reason=account%20locked")
              .token(server.admin())
              .send();

      assertThat(reply.json().path("disconnected").asInt()).isEqualTo(3);
      assertThat(first.awaitClose()).isEqualTo(4403);
      assertThat(second.awaitClose()).isEqualTo(4403);
      SseClient.Event error = sse.next();
      assertThat(error.event()).isEqualTo("error");
      assertThat(error.data()).contains("account locked");
      assertThat(sse.awaitEnd().clean()).isTrue();
      bystander.assertOpen();
    }
  }

  @Test
  void aBroadcastReachesTheJobsWatchersButTheExcludedOneWithStatusAndSeq() {
    String job = server.newJob("audience");
    server.publish(job, "{\"progress\":10}");
    try (WsClient a = watcher("audience", job);
        WsClient b = watcher("audience", job);
        WsClient elsewhere = watcher("audience")) {
      List<String> both = ids(connections("?job=" + job));
      assertThat(both).hasSize(2);
      String excluded = both.get(1);

      RestClient.Reply reply =
          rest.post("/api/jobs/" + job + "/broadcast")
              .token(server.admin())
              .json("{\"data\":{\"notice\":\"restarting soon\"},\"exclude\":\"" + excluded + "\"}")
              .send();

      assertThat(reply.status()).as("%s", reply).isEqualTo(200);
      assertThat(reply.json().path("delivered").asInt()).isEqualTo(1);
      // exactly one of a and b got it
      List<WsClient> receivers = new ArrayList<>();
      for (WsClient client : List.of(a, b)) {
        client.send("{\"type\":\"ping\",\"id\":\"after\"}");
        JsonNode next = client.nextSkippingHeartbeats();
        if (next.path("type").asText().equals("broadcast")) {
          assertThat(next.path("job_id").asText()).isEqualTo(job);
          assertThat(next.path("status").asText()).isEqualTo("in_progress");
          assertThat(next.path("seq").asLong()).isEqualTo(2);
          assertThat(next.path("data").path("notice").asText()).isEqualTo("restarting soon");
          assertThat(next.path("timestamp").asText()).endsWith("Z");
          receivers.add(client);
          next = client.nextSkippingHeartbeats();
        }
        assertThat(next.path("type").asText()).isEqualTo("pong");
      }
      assertThat(receivers).hasSize(1);
      elsewhere.assertQuiet(Duration.ofMillis(200));
    }
  }

  @Test
  void aBroadcastReachesSseWatchersAsANamedEvent() {
    String job = server.newJob("sse-audience");
    try (SseClient sse =
        SseClient.open(
            server.port(),
            "/api/jobs/" + job + "/stream?token=" + server.token("sse-audience", Role.SUBSCRIBER),
            Map.of())) {
      sse.next();
      RestClient.Reply reply =
          rest.post("/api/jobs/" + job + "/broadcast")
              .token(server.admin())
              .json("{\"data\":\"hello\"}")
              .send();
      assertThat(reply.json().path("delivered").asInt()).isEqualTo(1);
      SseClient.Event event = sse.next();
      assertThat(event.event()).isEqualTo("broadcast");
      assertThat(event.id()).isNull();
      assertThat(event.data()).contains("\"data\":\"hello\"").contains("\"job_id\":\"" + job);
    }
  }

  @Test
  void aBroadcastNeedsAnExistingJobAndDataAndNothingElse() {
    String job = server.newJob("strict");
    String admin = server.admin();
    RestClient.Reply unknown =
        rest.post("/api/jobs/no-such-job/broadcast").token(admin).json("{\"data\":1}").send();
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.code()).isEqualTo("job_not_found");
    RestClient.Reply noData =
        rest.post("/api/jobs/" + job + "/broadcast").token(admin).json("{}").send();
    assertThat(noData.status()).isEqualTo(400);
    assertThat(noData.code()).isEqualTo("invalid_request");
    assertThat(noData.body()).contains("missing field: data");
    RestClient.Reply extra =
        rest.post("/api/jobs/" + job + "/broadcast")
            .token(admin)
            .json("{\"data\":1,\"to\":\"everyone\"}")
            .send();
    assertThat(extra.status()).isEqualTo(400);
    assertThat(extra.body()).contains("unknown field: 'to'");
    RestClient.Reply notJson =
        rest.post("/api/jobs/" + job + "/broadcast").token(admin).json("{\"data\":").send();
    assertThat(notJson.code()).isEqualTo("invalid_json");
  }

  @Test
  void aHostileReasonIsCutShortAndMadePrintable() {
    String job = server.newJob("hostile");
    try (WsClient ws = watcher("hostile", job)) {
      String id = ids(connections("?user=hostile")).get(0);
      String reason = "%0d%0aX-Injected:%20yes" + "a".repeat(5000);
      rest.delete("/api/connections/" + id + "?reason=" + reason).token(server.admin()).send();
      String message = ws.next("error").path("error").asText();
      assertThat(message).doesNotContain("\r").doesNotContain("\n");
      assertThat(message.length()).isLessThan(160);
      assertThat(ws.awaitClose()).isEqualTo(4403);
    }
  }

  @Test
  void readyAnswersWithoutATokenWhileServingAnd503OnceDraining() {
    try (TestServer draining = TestServer.start()) {
      RestClient client = new RestClient(draining);
      RestClient.Reply ready = client.get("/ready").send();
      assertThat(ready.status()).isEqualTo(200);
      assertThat(ready.json().path("status").asText()).isEqualTo("ready");

      draining.server.drain();

      RestClient.Reply notReady = client.get("/ready").send();
      assertThat(notReady.status()).isEqualTo(503);
      assertThat(notReady.json().path("status").asText()).isEqualTo("draining");
      assertThat(client.get("/health").send().status()).isEqualTo(200);
      String job = draining.newJob("still-served");
      assertThat(draining.publish(job, "{\"progress\":5}").statusCode()).isEqualTo(200);
    }
  }
}
