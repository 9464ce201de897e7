package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import org.junit.jupiter.api.Test;

class SmokeTest {

  @Test
  void watcherSeesPublishedProgressLive() {
    try (TestServer server = TestServer.start()) {
      server.createJob("job-42", "alice");
      try (WsClient client =
          server.connect("/ws/job-42?token=" + server.token("alice", Role.SUBSCRIBER))) {
        assertThat(client.next("connection_established").path("heartbeat_interval").asInt())
            .isEqualTo(25);
        JsonNode subscribed = client.next("subscribed");
        assertThat(subscribed.path("job_id").asText()).isEqualTo("job-42");
        assertThat(subscribed.path("seq").asLong()).isEqualTo(1);
        JsonNode current = client.next("progress");
        assertThat(current.path("replay").asBoolean()).isTrue();
        assertThat(current.path("status").asText()).isEqualTo("pending");

        assertThat(
                server
                    .publish("job-42", "{\"progress\":40,\"message\":\"chunk 4/10\"}")
                    .statusCode())
            .isEqualTo(200);
        JsonNode live = client.next("progress");
        assertThat(live.path("seq").asLong()).isEqualTo(2);
        assertThat(live.path("status").asText()).isEqualTo("in_progress");
        assertThat(live.path("progress").asDouble()).isEqualTo(40.0);
        assertThat(live.has("replay")).isFalse();

        client.send("{\"type\":\"ping\",\"id\":\"p1\"}");
        assertThat(client.next("pong").path("id").asText()).isEqualTo("p1");
      }
    }
  }

  @Test
  void percentEncodedJobIdInThePathIsAnsweredOverTheSocketNotLeftHanging() {
    try (TestServer server = TestServer.start();
        WsClient client = server.connect("/ws/bad%20id?token=" + server.admin())) {
      client.next("connection_established");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("invalid_job_id");
      assertThat(client.awaitClose()).isEqualTo(4400);
    }
  }

  @Test
  void aFailedBindLeavesNoEventLoopThreadsBehind() {
    try (TestServer first = TestServer.start()) {
      ServerConfig sameport =
          ServerConfig.defaults(AuthConfig.hs256(TestServer.SECRET))
              .withNetwork(
                  new NetworkConfig(
                      "127.0.0.1",
                      first.port(),
                      java.util.List.of(),
                      java.time.Duration.ofSeconds(1)));
      long before = ioThreads();
      try (io.progresshub.core.Hub hub = io.progresshub.core.Hub.builder().build()) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> ProgressHubServer.start(sameport, hub))
            .hasMessageContaining("Address already in use");
      }
      org.awaitility.Awaitility.await()
          .untilAsserted(() -> assertThat(ioThreads()).isLessThanOrEqualTo(before));
    }
  }

  private static long ioThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("progress-hub-io"))
        .count();
  }
}
