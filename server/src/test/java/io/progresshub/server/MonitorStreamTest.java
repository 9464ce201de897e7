package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /ws/monitor}: the system stream for admins, over a real WebSocket. */
class MonitorStreamTest {

  @RegisterExtension
  static final TestServer server =
      TestServer.perClass(
          config ->
              config.withWebSocket(config.webSocket().withMonitorInterval(Duration.ofMillis(300))));

  private static WsClient monitor(String token) {
    WsClient client = server.connect("/ws/monitor?token=" + token);
    client.next("connection_established");
    return client;
  }

  /** The next message of {@code type}, skipping the system messages of other types. */
  private static JsonNode nextOf(WsClient client, String type) {
    for (int i = 0; i < 50; i++) {
      JsonNode message = client.nextSkippingHeartbeats();
      if (message.path("type").asText().equals(type)) {
        return message;
      }
    }
    throw new AssertionError("no " + type + " in 50 messages");
  }

  @Test
  void anAdminGetsASystemStatusAtOnceAndThenEveryInterval() {
    String job = server.newJob("status-owner");
    server.publish(job, "{\"progress\":50}");
    try (WsClient monitor = monitor(server.admin())) {
      JsonNode first = nextOf(monitor, "system_status"); // at once, whatever the timer's phase
      JsonNode second = nextOf(monitor, "system_status");
      long secondAt = System.nanoTime();
      nextOf(monitor, "system_status");
      long apartMillis = (System.nanoTime() - secondAt) / 1_000_000;

      assertThat(apartMillis).isBetween(100L, 3_000L);
      for (JsonNode status : List.of(first, second)) {
        assertThat(status.path("timestamp").asText()).endsWith("Z");
        assertThat(status.path("jobs").path("in_progress").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(status.path("jobs").has("pending")).isTrue();
        assertThat(status.path("connections").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(status.has("subscriptions")).isTrue();
        assertThat(status.has("watched_jobs")).isTrue();
        assertThat(status.has("publishes_per_second")).isTrue();
        assertThat(status.has("deliveries_per_second")).isTrue();
        assertThat(status.has("store_pending_writes")).isTrue();
        assertThat(status.has("store_commit_ms_p99")).isTrue();
      }
    }
  }

  @Test
  void everyJobCreatedOrChangingStatusIsToldAndTicksAreNot() {
    try (WsClient monitor = monitor(server.admin())) {
      nextOf(monitor, "system_status");
      String job = server.createJob("monitored-1", "carol");
      JsonNode created = nextOf(monitor, "job_created");
      assertThat(created.path("job_id").asText()).isEqualTo(job);
      assertThat(created.path("status").asText()).isEqualTo("pending");
      assertThat(created.path("seq").asLong()).isEqualTo(1);
      assertThat(created.path("owner").asText()).isEqualTo("carol");
      assertThat(created.has("job_type")).isTrue();

      server.publish(job, "{\"progress\":10}"); // starts it: a status change
      server.publish(job, "{\"progress\":20}"); // a tick: not told
      server.publish(job, "{\"progress\":30,\"stage\":\"encode\"}"); // a stage: not told
      server.publish(job, "{\"status\":\"completed\",\"result\":{\"ok\":true}}");

      JsonNode started = nextOf(monitor, "job_status");
      assertThat(started.path("status").asText()).isEqualTo("in_progress");
      assertThat(started.path("seq").asLong()).isEqualTo(2);
      JsonNode completed = nextOf(monitor, "job_status");
      assertThat(completed.path("status").asText()).isEqualTo("completed");
      assertThat(completed.path("seq").asLong()).isEqualTo(5);
      assertThat(completed.path("progress").asDouble()).isEqualTo(100.0);
    }
  }

  @Test
  void publishesPerSecondFollowRealTraffic() {
    try (WsClient monitor = monitor(server.admin())) {
      nextOf(monitor, "system_status");
      String job = server.newJob("busy");
      for (int i = 1; i <= 20; i++) {
        server.publish(job, "{\"progress\":" + i + "}");
      }
      double seen = 0;
      for (int i = 0; i < 5 && seen == 0; i++) {
        seen = nextOf(monitor, "system_status").path("publishes_per_second").asDouble();
      }
      assertThat(seen).isGreaterThan(0);
    }
  }

  @Test
  void otherRolesAreRefusedWith4403() {
    for (Role role : List.of(Role.SUBSCRIBER, Role.PUBLISHER)) {
      try (WsClient client = server.connect("/ws/monitor?token=" + server.token("x", role))) {
        client.next("connection_established");
        JsonNode error = client.next("error");
        assertThat(error.path("code").asText()).isEqualTo("forbidden");
        assertThat(client.awaitClose()).isEqualTo(4403);
      }
    }
  }

  @Test
  void aFirstMessageAuthAsAdminJoinsTheStream() {
    try (WsClient client = server.connect("/ws/monitor")) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + server.admin() + "\"}");
      client.next("authenticated");
      nextOf(client, "system_status");
    }
  }

  @Test
  void aMonitorIsListedAsSuchAndMayAlsoWatchJobs() {
    String job = server.newJob("watched-by-monitor");
    try (WsClient monitor = monitor(server.admin())) {
      monitor.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\"}");
      nextOf(monitor, "subscribed");
      RestClient.Reply list =
          new RestClient(server)
              .get("/api/connections?user=admin&job=" + job)
              .token(server.admin())
              .send();
      assertThat(list.json().path("connections").get(0).path("transport").asText())
          .isEqualTo("monitor");
    }
  }
}
