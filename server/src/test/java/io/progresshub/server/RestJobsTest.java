package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.JobIds;
import io.progresshub.core.MutableClock;
import io.progresshub.core.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Jobs as resources: create, read, list, delete, stats and health. */
class RestJobsTest {
  private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-31T12:00:00Z"));
  @RegisterExtension static final TestServer server = TestServer.perClass(CLOCK);
  private static final RestClient rest = new RestClient(server);
  private static int unique;

  private static String newId(String prefix) {
    return prefix + "-" + (++unique);
  }

  private static RestClient.Reply create(String token, String body) {
    return rest.post("/api/jobs").token(token).json(body).send();
  }

  // ---------------------------------------------------------------- create

  @Test
  void createAnswers201WithTheJobsFields() {
    String id = newId("create");
    RestClient.Reply reply =
        create(
            server.publisher(),
            "{\"id\":\""
                + id
                + "\",\"owner\":\"alice\",\"type\":\"video-analysis\",\"stage\":\"upload\","
                + "\"message\":\"waiting\",\"metadata\":{\"file\":\"a.mp4\"}}");

    assertThat(reply.status()).as("%s", reply).isEqualTo(201);
    assertThat(reply.header("Content-Type")).hasValue("application/json");
    JsonNode job = reply.json();
    assertThat(job.path("id").asText()).isEqualTo(id);
    assertThat(job.path("owner").asText()).isEqualTo("alice");
    assertThat(job.path("type").asText()).isEqualTo("video-analysis");
    assertThat(job.path("status").asText()).isEqualTo("pending");
    assertThat(job.path("seq").asLong()).isEqualTo(1);
    assertThat(job.path("progress").asDouble()).isZero();
    assertThat(job.path("stage").asText()).isEqualTo("upload");
    assertThat(job.path("message").asText()).isEqualTo("waiting");
    assertThat(job.path("metadata").path("file").asText()).isEqualTo("a.mp4");
    assertThat(job.path("eta_seconds").isNull()).isTrue();
    assertThat(job.path("elapsed_seconds").isNull()).isTrue();
    assertThat(job.path("created_at").asText()).isEqualTo(CLOCK.instant().toString());
    assertThat(job.path("started_at").isNull()).isTrue();
    assertThat(job.path("finished_at").isNull()).isTrue();
    assertThat(job.has("result")).isFalse();
    assertThat(job.has("error")).isFalse();

    assertThat(rest.get("/api/jobs/" + id).token(server.publisher()).send().json()).isEqualTo(job);
  }

  @Test
  void createWithoutIdGeneratesOneAndTheCallerOwnsTheJob() {
    RestClient.Reply reply = create(server.publisher(), "{\"type\":\"pdf-split\"}");

    assertThat(reply.status()).as("%s", reply).isEqualTo(201);
    String id = reply.json().path("id").asText();
    assertThat(JobIds.isValid(id)).as("generated id %s", id).isTrue();
    assertThat(reply.json().path("owner").asText()).isEqualTo("worker");
    assertThat(rest.get("/api/jobs/" + id).token(server.publisher()).send().status())
        .isEqualTo(200);
    assertThat(create(server.publisher(), "{}").json().path("id").asText()).isNotEqualTo(id);
  }

  @Test
  void createMayStartAJobQueued() {
    RestClient.Reply reply =
        create(server.publisher(), "{\"id\":\"" + newId("queued") + "\",\"status\":\"queued\"}");

    assertThat(reply.status()).as("%s", reply).isEqualTo(201);
    assertThat(reply.json().path("status").asText()).isEqualTo("queued");
  }

  @Test
  void createWithATakenIdIsAConflict() {
    String id = server.createJob(newId("taken"), "alice");

    RestClient.Reply reply = create(server.publisher(), "{\"id\":\"" + id + "\"}");

    assertThat(reply.status()).isEqualTo(409);
    assertThat(reply.code()).isEqualTo("job_exists");
    assertThat(
            rest.get("/api/jobs/" + id).token(server.admin()).send().json().path("owner").asText())
        .as("the first job is untouched")
        .isEqualTo("alice");
  }

  @Test
  void createWithABadIdIsRejected() {
    for (String bad : List.of("has space", "slash/y", "", "x".repeat(129), "caf\u00e9")) {
      RestClient.Reply reply =
          create(server.publisher(), "{\"id\":" + RestClient.JSON.valueToTree(bad) + "}");
      assertThat(reply.status()).as("id %s: %s", bad, reply).isEqualTo(400);
      assertThat(reply.code()).as("id %s", bad).isEqualTo("invalid_job_id");
    }
    assertThat(create(server.publisher(), "{\"id\":\"" + "x".repeat(128) + "\"}").status())
        .isEqualTo(201);
  }

  @Test
  void createWithAnUnknownFieldIsRejectedNamingIt() {
    RestClient.Reply reply =
        create(server.publisher(), "{\"id\":\"" + newId("unknown") + "\",\"priority\":5}");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.code()).isEqualTo("invalid_request");
    assertThat(reply.json().path("error").asText()).contains("priority");
  }

  @Test
  void createInAnyStatusButPendingOrQueuedIsRejected() {
    for (String status : List.of("in_progress", "completed", "failed", "cancelled", "running")) {
      RestClient.Reply reply =
          create(
              server.publisher(),
              "{\"id\":\"" + newId("status") + "\",\"status\":\"" + status + "\"}");
      assertThat(reply.status()).as("status %s: %s", status, reply).isEqualTo(400);
      assertThat(reply.code()).isEqualTo("invalid_request");
      assertThat(reply.json().path("error").asText()).contains("status");
    }
  }

  @Test
  void subscribersMayNotCreateJobs() {
    String id = newId("sub-create");
    RestClient.Reply reply =
        create(server.token("alice", Role.SUBSCRIBER), "{\"id\":\"" + id + "\"}");

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.code()).isEqualTo("forbidden");
    assertThat(rest.get("/api/jobs/" + id).token(server.admin()).send().status()).isEqualTo(404);
  }

  // ---------------------------------------------------------------- read

  @Test
  void gettingAnUnknownJobIs404() {
    RestClient.Reply reply = rest.get("/api/jobs/no-such-job").token(server.publisher()).send();

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.code()).isEqualTo("job_not_found");
  }

  @Test
  void aSubscriberReadsItsOwnJobAndJobsListedInItsToken() {
    String own = server.createJob(newId("own"), "alice");
    String listed = server.createJob(newId("listed"), "bob");

    assertThat(
            rest.get("/api/jobs/" + own)
                .token(server.token("alice", Role.SUBSCRIBER))
                .send()
                .status())
        .isEqualTo(200);
    assertThat(
            rest.get("/api/jobs/" + listed)
                .token(server.token("alice", Role.SUBSCRIBER, listed))
                .send()
                .status())
        .isEqualTo(200);
    assertThat(
            rest.get("/api/jobs/" + listed)
                .token(server.token("alice", Role.SUBSCRIBER))
                .send()
                .status())
        .as("a job not listed is answered like an unknown one")
        .isEqualTo(404);
  }

  // ---------------------------------------------------------------- list

  @Test
  void listIsNewestFirstWithTotalAndPaging() {
    String type = newId("paging-type");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      CLOCK.advance(Duration.ofSeconds(1));
      String id = newId("page");
      assertThat(
              create(server.publisher(), "{\"id\":\"" + id + "\",\"type\":\"" + type + "\"}")
                  .status())
          .isEqualTo(201);
      created.add(id);
    }

    JsonNode all = rest.get("/api/jobs?type=" + type).token(server.admin()).send().json();
    assertThat(ids(all)).containsExactlyElementsOf(created.reversed());
    assertThat(all.path("total").asInt()).isEqualTo(5);

    JsonNode page =
        rest.get("/api/jobs?type=" + type + "&offset=1&limit=2")
            .token(server.admin())
            .send()
            .json();
    assertThat(ids(page)).containsExactly(created.get(3), created.get(2));
    assertThat(page.path("total").asInt()).isEqualTo(5);
    assertThat(page.path("offset").asInt()).isEqualTo(1);
    assertThat(page.path("limit").asInt()).isEqualTo(2);

    JsonNode beyond =
        rest.get("/api/jobs?type=" + type + "&offset=10").token(server.admin()).send().json();
    assertThat(ids(beyond)).isEmpty();
    assertThat(beyond.path("total").asInt()).isEqualTo(5);
  }

  @Test
  void listFiltersByStatusOwnerAndType() {
    String type = newId("filter-type");
    String owner = newId("filter-owner");
    String a = newId("filter");
    String b = newId("filter");
    String c = newId("filter");
    create(server.publisher(), job(a, owner, type));
    create(server.publisher(), job(b, owner, "other-" + type));
    create(server.publisher(), job(c, "someone-else", type));
    assertThat(server.publish(a, "{\"progress\":10}").statusCode()).isEqualTo(200);

    assertThat(ids(list("?owner=" + owner))).containsExactlyInAnyOrder(a, b);
    assertThat(ids(list("?type=" + type))).containsExactlyInAnyOrder(a, c);
    assertThat(ids(list("?type=" + type + "&status=in_progress"))).containsExactly(a);
    assertThat(ids(list("?type=" + type + "&status=pending"))).containsExactly(c);
    assertThat(ids(list("?owner=" + owner + "&type=" + type + "&status=pending"))).isEmpty();
  }

  @Test
  void listRejectsBadParameters() {
    for (String query :
        List.of("?status=running", "?limit=0", "?limit=1001", "?offset=-1", "?limit=ten")) {
      RestClient.Reply reply = rest.get("/api/jobs" + query).token(server.admin()).send();
      assertThat(reply.status()).as("%s: %s", query, reply).isEqualTo(400);
      assertThat(reply.code()).isEqualTo("invalid_request");
    }
  }

  @Test
  void aSubscriberListsOnlyItsOwnJobs() {
    String owner = newId("lister");
    String mine = server.createJob(newId("mine"), owner);
    server.createJob(newId("theirs"), "not-" + owner);
    String token = server.token(owner, Role.SUBSCRIBER);

    RestClient.Reply reply = rest.get("/api/jobs").token(token).send();
    assertThat(reply.status()).isEqualTo(200);
    assertThat(ids(reply.json())).containsExactly(mine);
    assertThat(reply.json().path("total").asInt()).isEqualTo(1);
    assertThat(ids(rest.get("/api/jobs?owner=" + owner).token(token).send().json()))
        .containsExactly(mine);

    RestClient.Reply other = rest.get("/api/jobs?owner=not-" + owner).token(token).send();
    assertThat(other.status()).isEqualTo(403);
    assertThat(other.code()).isEqualTo("forbidden");
    assertThat(other.body()).doesNotContain("\"jobs\"");
  }

  // ---------------------------------------------------------------- delete

  @Test
  void deleteAnswers204AndTheJobIsGone() {
    String id = server.createJob(newId("delete"), "alice");

    RestClient.Reply deleted = rest.delete("/api/jobs/" + id).token(server.publisher()).send();
    assertThat(deleted.status()).isEqualTo(204);
    assertThat(deleted.body()).isEmpty();

    assertThat(rest.get("/api/jobs/" + id).token(server.publisher()).send().code())
        .isEqualTo("job_not_found");
    RestClient.Reply again = rest.delete("/api/jobs/" + id).token(server.publisher()).send();
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.code()).isEqualTo("job_not_found");
    assertThat(server.publish(id, "{\"progress\":1}").statusCode()).isEqualTo(404);
  }

  @Test
  void subscribersMayNotDeleteJobsEvenTheirOwn() {
    String id = server.createJob(newId("keep"), "alice");

    RestClient.Reply reply =
        rest.delete("/api/jobs/" + id).token(server.token("alice", Role.SUBSCRIBER)).send();

    assertThat(reply.status()).isEqualTo(403);
    assertThat(rest.get("/api/jobs/" + id).token(server.publisher()).send().status())
        .isEqualTo(200);
  }

  // ---------------------------------------------------------------- stats, health

  @Test
  void statsCountJobsByStatusForAdminsOnly() {
    String id = server.createJob(newId("stats"), "alice");
    server.publish(id, "{\"status\":\"failed\",\"error\":\"boom\"}");

    RestClient.Reply reply = rest.get("/api/stats").token(server.admin()).send();
    assertThat(reply.status()).isEqualTo(200);
    JsonNode jobs = reply.json().path("jobs");
    assertThat(jobs.path("failed").asLong()).isGreaterThanOrEqualTo(1);
    long sum = 0;
    for (String status :
        List.of("pending", "queued", "in_progress", "completed", "failed", "cancelled")) {
      assertThat(jobs.has(status)).as(status).isTrue();
      sum += jobs.path(status).asLong();
    }
    assertThat(jobs.path("total").asLong()).isEqualTo(sum);
    assertThat(reply.json().path("connections").has("open")).isTrue();

    for (String token : List.of(server.publisher(), server.token("alice", Role.SUBSCRIBER))) {
      RestClient.Reply refused = rest.get("/api/stats").token(token).send();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.code()).isEqualTo("forbidden");
    }
  }

  @Test
  void healthNeedsNoToken() {
    RestClient.Reply reply = rest.get("/health").send();

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.json().path("status").asText()).isEqualTo("ok");
  }

  // ---------------------------------------------------------------- helpers

  private static String job(String id, String owner, String type) {
    return "{\"id\":\"" + id + "\",\"owner\":\"" + owner + "\",\"type\":\"" + type + "\"}";
  }

  private static JsonNode list(String query) {
    RestClient.Reply reply = rest.get("/api/jobs" + query).token(server.admin()).send();
    assertThat(reply.status()).as("%s", reply).isEqualTo(200);
    return reply.json();
  }

  private static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.path("jobs").forEach(job -> ids.add(job.path("id").asText()));
    return ids;
  }
}
