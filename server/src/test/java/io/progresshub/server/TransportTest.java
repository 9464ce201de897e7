package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The same publish-and-watch flow over every socket I/O engine the server can use. */
class TransportTest {

  @ParameterizedTest
  @EnumSource(NetworkConfig.Transport.class)
  void everyTransportServesRestAndWebSocketsAlike(NetworkConfig.Transport transport) {
    try (TestServer server =
        TestServer.start(config -> config.withNetwork(config.network().withTransport(transport)))) {
      server.createJob("job-t", "alice");
      try (WsClient client =
          server.connect("/ws/job-t?token=" + server.token("alice", Role.SUBSCRIBER))) {
        client.next("connection_established");
        client.next("subscribed");
        client.next("progress");
        for (int i = 1; i <= 20; i++) {
          assertThat(server.publish("job-t", "{\"progress\":" + (i * 5) + "}").statusCode())
              .isEqualTo(200);
        }
        JsonNode last = client.until(message -> message.path("seq").asLong() == 21).getLast();
        assertThat(last.path("progress").asDouble()).isEqualTo(100.0);
        assertThat(server.publish("job-t", "{\"status\":\"completed\"}").statusCode())
            .isEqualTo(200);
        assertThat(client.next("progress").path("status").asText()).isEqualTo("completed");
      }
    }
  }
}
