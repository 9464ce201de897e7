package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Role;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Bounds on what a client may send: body size and the time to send a request. */
class RestLimitsTest {
  private static final int MAX_BODY = 1024 * 1024;

  @RegisterExtension
  static final TestServer server =
      TestServer.perClass(
          config ->
              config.withLimits(
                  config.limits().toBuilder()
                      .maxBodyBytes(MAX_BODY)
                      .maxConnectionsPerUser(1)
                      .handshakeTimeout(Duration.ofMillis(300))
                      .build()));

  private static final RestClient rest = new RestClient(server);

  /**
   * A create request for job {@code id} of exactly {@code size} bytes, padded with whitespace after
   * the object: the body's size is what is tested, not the job state's (which has its own bound).
   */
  private static String bodyOfSize(String id, int size) {
    String json = "{\"id\":\"" + id + "\"}";
    return json + " ".repeat(size - json.length());
  }

  @Test
  void aBodyOverTheLimitIs413AndTheServerKeepsServing() {
    RestClient.Reply reply =
        rest.post("/api/jobs")
            .token(server.publisher())
            .json(bodyOfSize("too-big", MAX_BODY + 1))
            .send();

    assertThat(reply.status()).isEqualTo(413);
    assertThat(reply.code()).isEqualTo("payload_too_large");
    assertThat(reply.json().path("error").asText()).isNotBlank();
    assertThat(rest.get("/api/jobs/too-big").token(server.publisher()).send().status())
        .isEqualTo(404);

    assertThat(rest.get("/health").send().status()).isEqualTo(200);
    assertThat(rest.post("/api/jobs").token(server.publisher()).json("{}").send().status())
        .isEqualTo(201);
  }

  @Test
  void aBodyOverTheLimitSentInChunksIs413() {
    try (RawHttp http = RawHttp.open(server.port())) {
      http.write(
          RawHttp.request(
              "POST",
              "/api/jobs",
              Map.of(
                  "Authorization", "Bearer " + server.publisher(),
                  "Content-Type", "application/json",
                  "Transfer-Encoding", "chunked")));
      byte[] chunk = new byte[64 * 1024];
      Arrays.fill(chunk, (byte) ' ');
      for (int sent = 0; sent <= MAX_BODY; sent += chunk.length) {
        http.write(Integer.toHexString(chunk.length) + "\r\n");
        http.write(chunk);
        http.write("\r\n");
      }
      RawHttp.Response response = http.readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.body()).contains("\"code\":\"payload_too_large\"");
    }
    assertThat(rest.get("/health").send().status()).isEqualTo(200);
  }

  @Test
  void aBodyJustUnderTheLimitIsAccepted() {
    RestClient.Reply reply =
        rest.post("/api/jobs")
            .token(server.publisher())
            .json(bodyOfSize("just-under", MAX_BODY - 1024))
            .send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(201);
  }

  @Test
  void sseStreamsPastTheUsersLimitAreRefusedUntilOneCloses() {
    String id = server.createJob("limited-stream", "carol");
    String carol = "/api/jobs/" + id + "/stream?token=" + server.token("carol", Role.SUBSCRIBER);
    try (SseClient first = SseClient.open(server.port(), carol)) {
      assertThat(first.status()).isEqualTo(200);
      try (SseClient second = SseClient.open(server.port(), carol)) {
        assertThat(second.status()).isEqualTo(429);
        assertThat(second.response.body()).contains("\"code\":\"too_many_connections\"");
      }
      String admin = "/api/jobs/" + id + "/stream?token=" + server.admin();
      try (SseClient otherUser = SseClient.open(server.port(), admin)) {
        assertThat(otherUser.status()).as("another user has a limit of its own").isEqualTo(200);
      }
    }
    await()
        .atMost(RawHttp.WAIT)
        .untilAsserted(
            () -> {
              try (SseClient again = SseClient.open(server.port(), carol)) {
                assertThat(again.status()).as("the closed stream was released").isEqualTo(200);
              }
            });
  }

  @Test
  void aClientThatSendsHalfARequestLineIsDisconnected() {
    try (RawHttp slow = RawHttp.open(server.port())) {
      slow.write("GET /api/jo");

      assertThat(slow.awaitClosedByServer()).as("closed after the request timeout").isTrue();
    }
    assertThat(rest.get("/health").send().status()).isEqualTo(200);
  }

  @Test
  void aClientThatSendsHeadersButNoBodyIsDisconnected() {
    try (RawHttp slow = RawHttp.open(server.port())) {
      slow.write(
          RawHttp.request(
              "POST",
              "/api/jobs",
              Map.of("Content-Type", "application/json", "Content-Length", "100")));
      slow.write("{\"id\":");

      assertThat(slow.awaitClosedByServer()).as("closed after the request timeout").isTrue();
    }
  }

  @Test
  void anIdleConnectionThatSendsNothingIsDisconnected() {
    try (RawHttp idle = RawHttp.open(server.port())) {
      assertThat(idle.awaitClosedByServer()).isTrue();
    }
  }
}
