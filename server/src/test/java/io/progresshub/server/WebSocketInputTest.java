package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad client input: each gets an {@code error} with the right code and the echoed {@code id}, and
 * the connection stays open; on single-job endpoints a bad job closes the connection after the
 * error.
 */
class WebSocketInputTest {
  private static final String LONG_ID = "j".repeat(129);
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static String token() {
    return server.token("alice", Role.SUBSCRIBER);
  }

  static Stream<Arguments> badCommands() {
    return Stream.of(
        Arguments.of("{\"type\":\"ping\"", "invalid_json", null),
        Arguments.of("not json at all", "invalid_json", null),
        Arguments.of("", "invalid_json", null),
        Arguments.of("[{\"type\":\"ping\",\"id\":\"a1\"}]", "invalid_json", null),
        Arguments.of("42", "invalid_json", null),
        Arguments.of("\"ping\"", "invalid_json", null),
        Arguments.of("null", "invalid_json", null),
        Arguments.of("{\"type\":\"ping\",\"id\":\"t\"} {}", "invalid_json", null),
        Arguments.of("{\"type\":\"dance\",\"id\":\"u1\"}", "unknown_type", "u1"),
        Arguments.of("{\"type\":42,\"id\":\"u2\"}", "invalid_request", "u2"),
        Arguments.of("{\"job_id\":\"job-1\",\"id\":\"m1\"}", "missing_field", "m1"),
        Arguments.of("{\"type\":\"subscribe\",\"id\":\"m2\"}", "missing_field", "m2"),
        Arguments.of("{\"type\":\"unsubscribe\",\"id\":\"m3\"}", "missing_field", "m3"),
        Arguments.of("{\"type\":\"cancel\",\"id\":\"m4\"}", "missing_field", "m4"),
        Arguments.of("{\"type\":\"auth\",\"id\":\"m5\"}", "missing_field", "m5"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":42,\"id\":\"r1\"}", "invalid_request", "r1"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"since\":-1,\"id\":\"r2\"}",
            "invalid_request",
            "r2"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"since\":1.5,\"id\":\"r3\"}",
            "invalid_request",
            "r3"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"since\":\"3\",\"id\":\"r4\"}",
            "invalid_request",
            "r4"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"since\":1e30,\"id\":\"r5\"}",
            "invalid_request",
            "r5"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"" + LONG_ID + "\",\"id\":\"b1\"}",
            "invalid_job_id",
            "b1"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"bad id!\",\"id\":\"b2\"}",
            "invalid_job_id",
            "b2"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"../etc\",\"id\":\"b3\"}", "invalid_job_id", "b3"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"\",\"id\":\"b4\"}", "invalid_job_id", "b4"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"j\u00e9\",\"id\":\"b5\"}",
            "invalid_job_id",
            "b5"),
        Arguments.of(
            "{\"type\":\"cancel\",\"job_id\":\"bad id!\",\"id\":\"b6\"}", "invalid_job_id", "b6"),
        Arguments.of(
            "{\"type\":\"subscribe\",\"job_id\":\"no-such-job\",\"id\":\"n1\"}",
            "job_not_found",
            "n1"),
        Arguments.of(
            "{\"type\":\"cancel\",\"job_id\":\"no-such-job\",\"id\":\"n2\"}",
            "job_not_found",
            "n2"));
  }

  @ParameterizedTest(name = "[{index}] {1}: {0}")
  @MethodSource("badCommands")
  void badCommandGetsAnErrorWithItsCodeAndIdAndTheConnectionStaysOpen(
      String command, String code, String id) {
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      client.send(command);
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo(code);
      assertThat(error.path("error").asText()).isNotBlank();
      if (id == null) {
        assertThat(error.has("id")).isFalse();
      } else {
        assertThat(error.path("id").asText()).isEqualTo(id);
      }
      assertThat(error.has("job_id")).as("errors carry no job_id").isFalse();
      client.assertOpen();
    }
  }

  @Test
  void jsonNestedDeeperThanTheLimitIsInvalidJsonAndShallowerIsServed() {
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      client.send(nestedPing(40));
      assertThat(client.next("error").path("code").asText()).isEqualTo("invalid_json");
      client.send(nestedPing(1000));
      assertThat(client.next("error").path("code").asText()).isEqualTo("invalid_json");
      client.send(nestedPing(10));
      assertThat(client.next("pong").path("id").asText()).isEqualTo("deep");
    }
  }

  private static String nestedPing(int depth) {
    return "{\"type\":\"ping\",\"id\":\"deep\",\"x\":"
        + "[".repeat(depth)
        + "]".repeat(depth)
        + "}";
  }

  @Test
  void manyBadCommandsInARowNeverCloseTheConnection() {
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      for (int i = 0; i < 50; i++) {
        client.send("{\"type\":\"nope\",\"id\":\"" + i + "\"}");
      }
      for (int i = 0; i < 50; i++) {
        assertThat(client.next("error").path("id").asText()).isEqualTo(String.valueOf(i));
      }
      client.assertOpen();
    }
  }

  // ------------------------------------------------------------------ single-job endpoints

  static Stream<Arguments> badSingleJobUrls() {
    return Stream.of(
        Arguments.of("/ws/bad!id", "invalid_job_id", 4400),
        Arguments.of("/ws/" + LONG_ID, "invalid_job_id", 4400),
        Arguments.of("/ws/a%20b", "invalid_job_id", 4400),
        Arguments.of("/progress/ws/bad!id", "invalid_job_id", 4400),
        Arguments.of("/ws/no-such-job", "job_not_found", 4404),
        Arguments.of("/progress/ws/no-such-job", "job_not_found", 4404));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {2}")
  @MethodSource("badSingleJobUrls")
  void singleJobEndpointWithABadOrUnknownJobSendsTheErrorThenCloses(
      String path, String code, int closeCode) {
    try (WsClient client = server.connect(path + "?token=" + token())) {
      client.next("connection_established");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo(code);
      assertThat(client.awaitClose()).isEqualTo(closeCode);
    }
  }

  @Test
  void percentEncodedJobIdInTheUrlIsDecodedAndServed() {
    String job = server.createJob("job:encoded-" + System.nanoTime(), "alice");
    String encoded = job.replace(":", "%3A");
    try (WsClient client = server.connect("/ws/" + encoded + "?token=" + token())) {
      client.next("connection_established");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(job);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "abc", "1.5", "99999999999999999999999"})
  void singleJobEndpointWithABadSinceSendsInvalidRequestThenCloses4400(String since) {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws/" + job + "?since=" + since + "&token=" + token())) {
      client.next("connection_established");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("invalid_request");
      assertThat(client.awaitClose()).isEqualTo(4400);
    }
  }

  @Test
  void multiplexedSubscribeWithSinceOnlyAcceptsNonNegativeIntegers() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      for (String since : List.of("-5", "2.0", "true", "[1]")) {
        client.send(
            "{\"type\":\"subscribe\",\"job_id\":\""
                + job
                + "\",\"since\":"
                + since
                + ",\"id\":\"x\"}");
        JsonNode error = client.next("error");
        assertThat(error.path("code").asText()).as("since %s", since).isEqualTo("invalid_request");
        assertThat(error.path("id").asText()).isEqualTo("x");
      }
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"since\":0,\"id\":\"ok\"}");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("id").asText()).isEqualTo("ok");
      assertThat(subscribed.path("recovered").asBoolean()).isTrue();
    }
  }
}
