package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What follows from the table of REST routes: 404 for a path it does not have, 405 with {@code
 * Allow} for a method a path does not have, {@code HEAD} wherever {@code GET} is, and the bearer
 * challenge of every 401.
 */
class RestRoutesTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();
  private static final RestClient rest = new RestClient(server);
  private static int unique;

  private static String newJob() {
    return server.createJob("routes-" + (++unique), "alice");
  }

  private static void assertNotAllowed(RestClient.Reply reply, String allow) {
    assertThat(reply.status()).as("%s", reply).isEqualTo(405);
    assertThat(reply.code()).isEqualTo("method_not_allowed");
    assertThat(reply.header("Allow")).hasValue(allow);
    assertThat(reply.json().path("error").asText()).contains(allow);
  }

  @Test
  void aMethodThePathDoesNotHaveIs405WithTheMethodsItHasInAllow() {
    String id = newJob();
    String admin = server.admin();

    assertNotAllowed(rest.call("PUT", "/api/jobs").token(admin).send(), "GET, HEAD, POST");
    assertNotAllowed(
        rest.call("PATCH", "/api/jobs/" + id).token(admin).send(), "GET, HEAD, DELETE");
    assertNotAllowed(rest.get("/api/jobs/" + id + "/cancel").token(admin).send(), "POST");
    assertNotAllowed(
        rest.delete("/api/jobs/" + id + "/events").token(admin).send(), "GET, HEAD, POST");
    assertNotAllowed(rest.post("/api/jobs/" + id + "/stream").token(admin).send(), "GET");
    assertNotAllowed(rest.get("/api/events/batch").token(admin).send(), "POST");
    assertNotAllowed(rest.post("/api/stats").token(admin).send(), "GET, HEAD");
  }

  @Test
  void healthNeedsNoTokenForItsAnswerNorForItsRefusal() {
    assertNotAllowed(rest.post("/health").send(), "GET, HEAD");
    assertThat(rest.call("HEAD", "/health").send().status()).isEqualTo(200);
  }

  @Test
  void aStreamHasNoHead() {
    String id = newJob();

    RestClient.Reply reply =
        rest.call("HEAD", "/api/jobs/" + id + "/stream").token(server.admin()).send();

    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.header("Allow")).hasValue("GET");
    assertThat(reply.body()).as("an answer to HEAD has no body").isEmpty();
  }

  @Test
  void aPathTheApiDoesNotHaveIs404() {
    String admin = server.admin();
    for (String path :
        List.of(
            "/api/nothing",
            "/api",
            "/api/jobs/x/y/z",
            "/api/jobs/x/unknown",
            "/api/events",
            "/api/events/batch/x",
            "/health/x")) {
      RestClient.Reply reply = rest.get(path).token(admin).send();
      assertThat(reply.status()).as("%s: %s", path, reply).isEqualTo(404);
      assertThat(reply.code()).isEqualTo("not_found");
    }
  }

  @Test
  void underTheApiATokenComesBeforeA404SoThatPathsCannotBeProbed() {
    RestClient.Reply inside = rest.get("/api/nothing").send();
    assertThat(inside.status()).isEqualTo(401);
    assertThat(inside.code()).isEqualTo("unauthorized");

    RestClient.Reply outside = rest.get("/favicon.ico").send();
    assertThat(outside.status()).isEqualTo(404);
    assertThat(outside.code()).isEqualTo("not_found");
  }

  @Test
  void aMalformedJobIdIsRefusedBeforeTheMethodIs() {
    RestClient.Reply reply = rest.call("PATCH", "/api/jobs/a%20b").token(server.admin()).send();

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.code()).isEqualTo("invalid_job_id");
  }

  @Test
  void emptyPathSegmentsDoNotCount() {
    String id = newJob();

    for (String path : List.of("/api/jobs/" + id + "/", "/api//jobs/" + id, "//api/jobs/" + id)) {
      RestClient.Reply reply = rest.get(path).token(server.admin()).send();
      assertThat(reply.status()).as("%s: %s", path, reply).isEqualTo(200);
      assertThat(reply.json().path("id").asText()).isEqualTo(id);
    }
  }

  @Test
  void headAnswersTheHeadersOfGetWithoutItsBody() {
    String id = newJob();
    String token = server.admin();
    RestClient.Reply get = rest.get("/api/jobs/" + id).token(token).send();

    try (RawHttp http = RawHttp.open(server.port())) {
      for (String path : List.of("/api/jobs/" + id, "/api/jobs?limit=1", "/health")) {
        http.write(RawHttp.request("HEAD", path, Map.of("Authorization", "Bearer " + token)));
        RawHttp.Head head = http.readHead();
        assertThat(head.status()).as(path).isEqualTo(200);
        assertThat(head.header("content-type")).hasValue("application/json");
        if (path.equals("/api/jobs/" + id)) {
          assertThat(head.header("content-length"))
              .hasValue(Integer.toString(get.body().getBytes().length));
        }
      }
      // Had a HEAD answer carried a body, this answer would not start where it is read.
      http.write(RawHttp.request("GET", "/health", Map.of()));
      RawHttp.Response health = http.readResponse();
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
    }
  }

  @Test
  void aRequestWithoutATokenIsChallengedForABearerToken() {
    for (RestClient.Reply reply :
        List.of(
            rest.get("/api/jobs").send(),
            rest.post("/api/events/batch").json("{}").send(),
            rest.get("/api/nothing").send())) {
      assertThat(reply.status()).isEqualTo(401);
      assertThat(reply.header("WWW-Authenticate")).hasValue("Bearer realm=\"progress-hub\"");
    }
  }

  @Test
  void aRefusedTokenIsChallengedAsAnInvalidToken() {
    JwtTokens past =
        new JwtTokens(
            TestServer.SECRET,
            Optional.empty(),
            Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC));
    String expired = past.issue("worker", Role.ADMIN, List.of(), Duration.ofHours(1));

    for (RestClient.Reply reply :
        List.of(
            rest.get("/api/jobs").token("not-a-jwt").send(),
            rest.get("/api/jobs").token(expired).send(),
            rest.get("/api/stats?token=not-a-jwt").send())) {
      assertThat(reply.status()).isEqualTo(401);
      assertThat(reply.code()).isEqualTo("unauthorized");
      assertThat(reply.header("WWW-Authenticate"))
          .hasValue("Bearer realm=\"progress-hub\", error=\"invalid_token\"");
    }
  }

  @Test
  void onlyA401CarriesAChallenge() {
    RestClient.Reply forbidden =
        rest.get("/api/stats").token(server.token("alice", Role.SUBSCRIBER)).send();

    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.header("WWW-Authenticate")).isEmpty();
  }

  @Test
  void aJsonContentTypeInCapitalsIsJsonWhateverTheDefaultLocale() {
    Locale before = Locale.getDefault();
    // In Turkish, "I".toLowerCase() is a dotless i, so "APPLICATION/JSON" would not read as JSON.
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      RestClient.Reply reply =
          rest.post("/api/jobs")
              .token(server.publisher())
              .header("Content-Type", "APPLICATION/JSON")
              .json("{\"id\":\"routes-turkish\"}")
              .send();

      assertThat(reply.status()).as("%s", reply).isEqualTo(201);
    } finally {
      Locale.setDefault(before);
    }
  }
}
