package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The REST bodies byte for byte, field order included, as clients written against docs/api.md read
 * them. Metadata has one key at most: a job's metadata map has no order of its own.
 */
class RestWireFormatTest {
  private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-31T12:00:00Z"));
  @RegisterExtension static final TestServer server = TestServer.perClass(CLOCK);
  private static final RestClient rest = new RestClient(server);

  private static RestClient.Reply create(String body) {
    return rest.post("/api/jobs").token(server.publisher()).json(body).send();
  }

  private static RestClient.Reply publish(String jobId, String body) {
    return rest.post("/api/jobs/" + jobId + "/events").token(server.publisher()).json(body).send();
  }

  @Test
  void aJobIsWrittenWithEveryFieldInTheDocumentedOrder() {
    RestClient.Reply created =
        create(
            "{\"id\":\"wire-job\",\"owner\":\"alice\",\"type\":\"captions\",\"stage\":\"upload\","
                + "\"message\":\"waiting\",\"metadata\":{\"lang\":\"en\"}}");

    assertThat(created.status()).isEqualTo(201);
    assertThat(created.body())
        .isEqualTo(
            "{\"id\":\"wire-job\",\"owner\":\"alice\",\"type\":\"captions\",\"status\":\"pending\","
                + "\"seq\":1,\"progress\":0.0,\"stage\":\"upload\",\"message\":\"waiting\","
                + "\"eta_seconds\":null,\"elapsed_seconds\":null,\"metadata\":{\"lang\":\"en\"},"
                + "\"created_at\":\"2026-01-31T12:00:00Z\",\"updated_at\":\"2026-01-31T12:00:00Z\","
                + "\"started_at\":null,\"finished_at\":null}");

    publish("wire-job", "{\"progress\":20}");
    CLOCK.advance(Duration.ofMillis(10_500));
    RestClient.Reply completed =
        publish(
            "wire-job",
            "{\"status\":\"completed\",\"result\":{\"url\":\"s3://out\",\"n\":[1,2.5,true,null]}}");

    assertThat(completed.body())
        .isEqualTo(
            "{\"id\":\"wire-job\",\"owner\":\"alice\",\"type\":\"captions\","
                + "\"status\":\"completed\",\"seq\":3,\"progress\":100.0,\"stage\":\"upload\","
                + "\"message\":\"waiting\",\"eta_seconds\":0.0,\"elapsed_seconds\":10.5,"
                + "\"metadata\":{\"lang\":\"en\"},\"result\":{\"url\":\"s3://out\",\"n\":[1,2.5,true,null]},"
                + "\"created_at\":\"2026-01-31T12:00:00Z\","
                + "\"updated_at\":\"2026-01-31T12:00:10.500Z\","
                + "\"started_at\":\"2026-01-31T12:00:00Z\","
                + "\"finished_at\":\"2026-01-31T12:00:10.500Z\"}");
    assertThat(rest.get("/api/jobs/wire-job").token(server.publisher()).send().body())
        .isEqualTo(completed.body());
  }

  @Test
  void aFailedJobCarriesItsErrorAfterTheMetadata() {
    create("{\"id\":\"wire-failed\",\"owner\":\"alice\",\"type\":\"t\"}");

    RestClient.Reply failed =
        publish("wire-failed", "{\"status\":\"failed\",\"error\":\"disk \\\"full\\\"\"}");

    assertThat(failed.body())
        .contains("\"metadata\":{},\"error\":\"disk \\\"full\\\"\",\"created_at\":")
        .doesNotContain("\"result\"");
  }

  @Test
  void aListPageHoldsTheJobsThenTotalOffsetAndLimit() {
    create("{\"id\":\"wire-list\",\"owner\":\"alice\",\"type\":\"wire-list-type\"}");

    RestClient.Reply page =
        rest.get("/api/jobs?type=wire-list-type&limit=5").token(server.admin()).send();

    assertThat(page.body())
        .startsWith("{\"jobs\":[{\"id\":\"wire-list\",")
        .endsWith("\"finished_at\":null}],\"total\":1,\"offset\":0,\"limit\":5}");
  }

  @Test
  void historyIsTheJobIdThenTheProgressMessagesWithoutReplay() {
    create("{\"id\":\"wire-history\",\"owner\":\"alice\",\"type\":\"t\"}");
    publish("wire-history", "{\"progress\":40,\"message\":\"chunk 4/10\"}");

    RestClient.Reply history =
        rest.get("/api/jobs/wire-history/events?since=1").token(server.publisher()).send();

    assertThat(history.body())
        .startsWith(
            "{\"job_id\":\"wire-history\",\"events\":[{\"type\":\"progress\","
                + "\"job_id\":\"wire-history\",\"seq\":2,\"status\":\"in_progress\","
                + "\"progress\":40.0,\"stage\":null,\"message\":\"chunk 4/10\",")
        .endsWith("\"metadata\":{}}]}");
    assertThat(
            rest.get("/api/jobs/wire-history/events?since=2")
                .token(server.publisher())
                .send()
                .body())
        .isEqualTo("{\"job_id\":\"wire-history\",\"events\":[]}");
  }

  @Test
  void aBatchResultListsEachOutcomeThenTheCounts() {
    create("{\"id\":\"wire-batch\",\"owner\":\"alice\",\"type\":\"t\"}");

    RestClient.Reply batch =
        rest.post("/api/events/batch")
            .token(server.publisher())
            .json(
                "{\"events\":[{\"job_id\":\"wire-batch\",\"status\":\"queued\"},"
                    + "{\"job_id\":\"wire-none\",\"progress\":1},42]}")
            .send();

    assertThat(batch.body())
        .isEqualTo(
            "{\"results\":[{\"job_id\":\"wire-batch\",\"ok\":true,\"seq\":2,\"status\":\"queued\"},"
                + "{\"job_id\":\"wire-none\",\"ok\":false,\"code\":\"job_not_found\","
                + "\"error\":\"job not found: wire-none\"},"
                + "{\"job_id\":null,\"ok\":false,\"code\":\"invalid_request\","
                + "\"error\":\"each event must be a JSON object\"}],"
                + "\"accepted\":1,\"rejected\":2}");
  }

  @Test
  void statsCountEveryStatusThenTheTotalThenTheConnections() {
    RestClient.Reply stats = rest.get("/api/stats").token(server.admin()).send();

    assertThat(stats.body())
        .matches(
            "\\{\"jobs\":\\{\"pending\":\\d+,\"queued\":\\d+,\"in_progress\":\\d+,"
                + "\"completed\":\\d+,\"failed\":\\d+,\"cancelled\":\\d+,\"total\":\\d+},"
                + "\"connections\":\\{\"open\":\\d+,\"subscriptions\":0,\"watched_jobs\":0},"
                + "\"rates\":\\{\"publishes_per_second\":[0-9.]+,\"deliveries_per_second\":[0-9.]+},"
                + "\"store\":\\{\"pending_writes\":\\d+,\"commit_ms_p50\":[0-9.]+,"
                + "\"commit_ms_p99\":[0-9.]+}}");
  }

  @Test
  void anErrorIsTheMessageThenTheCode() {
    RestClient.Reply missing = rest.get("/api/jobs/wire-nothing").token(server.admin()).send();

    assertThat(missing.body())
        .isEqualTo("{\"error\":\"job not found: wire-nothing\",\"code\":\"job_not_found\"}");
  }

  @Test
  void healthIsTheStatusOk() {
    assertThat(rest.get("/health").send().body()).isEqualTo("{\"status\":\"ok\"}");
  }
}
