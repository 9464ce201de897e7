package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Authentication, authorization and the error shape {@code {"error", "code"}} of every refusal. */
class RestErrorsTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();
  private static final RestClient rest = new RestClient(server);
  private static int unique;

  private static String newJob(String owner) {
    return server.createJob("errors-" + (++unique), owner);
  }

  private static void assertError(RestClient.Reply reply, int status, String code) {
    assertThat(reply.status()).as("%s", reply).isEqualTo(status);
    assertThat(reply.header("Content-Type")).hasValue("application/json");
    JsonNode body = reply.json();
    assertThat(body.path("code").asText()).as("%s", reply).isEqualTo(code);
    assertThat(body.path("error").isTextual()).isTrue();
    assertThat(body.path("error").asText()).isNotBlank();
    assertThat(body.properties())
        .extracting(Map.Entry::getKey)
        .containsExactlyInAnyOrder("error", "code");
  }

  // ---------------------------------------------------------------- authentication

  @Test
  void aRequestWithoutATokenIsUnauthorized() {
    String id = newJob("alice");
    assertError(rest.get("/api/jobs/" + id).send(), 401, "unauthorized");
    assertError(rest.get("/api/jobs").send(), 401, "unauthorized");
    assertError(rest.post("/api/jobs").json("{}").send(), 401, "unauthorized");
    assertError(rest.get("/api/stats").send(), 401, "unauthorized");
  }

  @Test
  void anExpiredTokenIsUnauthorized() {
    JwtTokens past =
        new JwtTokens(
            TestServer.SECRET,
            Optional.empty(),
            Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC));
    String expired = past.issue("worker", Role.ADMIN, List.of(), Duration.ofHours(1));

    RestClient.Reply reply = rest.get("/api/jobs").token(expired).send();

    assertError(reply, 401, "unauthorized");
    assertThat(reply.json().path("error").asText()).contains("expired");
  }

  @Test
  void aTokenSignedWithAnotherSecretOrGarbageIsUnauthorized() {
    JwtTokens other =
        new JwtTokens(
            "another-secret-another-secret-another!".getBytes(StandardCharsets.UTF_8),
            Optional.empty(),
            Clock.systemUTC());
    String forged = other.issue("admin", Role.ADMIN, List.of(), Duration.ofHours(1));

    assertError(rest.get("/api/jobs").token(forged).send(), 401, "unauthorized");
    assertError(rest.get("/api/jobs").token("not-a-jwt").send(), 401, "unauthorized");
  }

  @Test
  void theTokenMayComeInTheQuery() {
    String id = newJob("alice");
    RestClient.Reply reply =
        rest.get("/api/jobs/" + id + "?token=" + server.token("alice", Role.SUBSCRIBER)).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    assertThat(reply.json().path("id").asText()).isEqualTo(id);
  }

  // ---------------------------------------------------------------- authorization

  @Test
  void anotherUsersJobIsNotFoundWithNoneOfItsData() {
    String id = server.createJob("errors-secret-" + (++unique), "alice");
    server.publish(
        id, "{\"progress\":40,\"message\":\"private-message\",\"metadata\":{\"k\":\"private\"}}");
    String bob = server.token("bob", Role.SUBSCRIBER);

    for (RestClient.Reply reply :
        List.of(
            rest.get("/api/jobs/" + id).token(bob).send(),
            rest.get("/api/jobs/" + id + "/events").token(bob).send(),
            rest.post("/api/jobs/" + id + "/cancel").token(bob).send())) {
      assertError(reply, 404, "job_not_found");
      assertThat(reply.body()).doesNotContain("alice", "private", "in_progress", "40");
    }
  }

  // ---------------------------------------------------------------- malformed requests

  @Test
  void malformedJsonIsRejected() {
    for (String body : List.of("{\"id\":", "{'id':'x'}", "not json", "{\"a\":1}}")) {
      assertError(
          rest.post("/api/jobs").token(server.publisher()).json(body).send(), 400, "invalid_json");
    }
  }

  @Test
  void aBodyThatIsNotAJsonObjectIsRejected() {
    for (String body : List.of("[]", "42", "\"job\"", "")) {
      RestClient.Reply reply = rest.post("/api/jobs").token(server.publisher()).json(body).send();
      assertThat(reply.status()).as("body '%s': %s", body, reply).isEqualTo(400);
      assertThat(reply.code()).isIn("invalid_request", "invalid_json");
    }
  }

  @Test
  void jsonNestedTooDeeplyIsRejected() {
    String deep = "{\"metadata\":" + "{\"a\":".repeat(100) + "1" + "}".repeat(100) + "}";
    RestClient.Reply reply = rest.post("/api/jobs").token(server.publisher()).json(deep).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(400);
  }

  @Test
  void aBodyThatIsNotJsonByContentTypeIsUnsupported() {
    String id = newJob("alice");
    assertError(
        rest.post("/api/jobs/" + id + "/events")
            .token(server.publisher())
            .header("Content-Type", "text/plain")
            .json("{\"progress\":10}")
            .send(),
        415,
        "unsupported_media_type");
    assertError(
        rest.post("/api/jobs")
            .token(server.publisher())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .json("id=x")
            .send(),
        415,
        "unsupported_media_type");
    assertThat(
            rest.post("/api/jobs/" + id + "/events")
                .token(server.publisher())
                .header("Content-Type", "application/json; charset=utf-8")
                .json("{\"progress\":10}")
                .send()
                .status())
        .isEqualTo(200);
  }

  @Test
  void aMethodTheResourceDoesNotHaveIs405() {
    String id = newJob("alice");
    assertError(
        rest.call("PUT", "/api/jobs").token(server.admin()).send(), 405, "method_not_allowed");
    assertError(
        rest.call("PATCH", "/api/jobs/" + id).token(server.admin()).send(),
        405,
        "method_not_allowed");
    assertError(rest.post("/api/stats").token(server.admin()).send(), 405, "method_not_allowed");
    assertError(
        rest.get("/api/jobs/" + id + "/cancel").token(server.admin()).send(),
        405,
        "method_not_allowed");
    assertError(rest.post("/health").send(), 405, "method_not_allowed");
  }

  @Test
  void anUnknownEndpointIs404() {
    assertError(rest.get("/api/nothing").token(server.admin()).send(), 404, "not_found");
    assertError(rest.get("/api/jobs/x/y/z").token(server.admin()).send(), 404, "not_found");
    assertError(rest.get("/api/jobs/x/unknown").token(server.admin()).send(), 404, "not_found");
    assertError(rest.get("/favicon.ico").send(), 404, "not_found");
  }

  @Test
  void aMalformedJobIdInThePathIsRejected() {
    assertError(
        rest.get("/api/jobs/" + "x".repeat(129)).token(server.admin()).send(),
        400,
        "invalid_job_id");
    assertError(rest.get("/api/jobs/a%20b").token(server.admin()).send(), 400, "invalid_job_id");
  }
}
