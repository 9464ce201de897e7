package io.progresshub.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Every REST body written and read back, and what a reader refuses. */
class RestCodecTest {
  private static final RestCodec CODEC = new RestCodec(32);
  private static final Instant CREATED = Instant.parse("2026-11-22T10:00:00.000Z");
  private static final Instant UPDATED = Instant.parse("2026-11-22T10:00:20.900Z");

  private static String json(RestBody body) {
    return new String(RestCodec.encode(body), StandardCharsets.UTF_8);
  }

  private static <T extends RestBody> T roundTrip(T body) {
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) body.getClass();
    return CODEC.decode(RestCodec.encode(body), type);
  }

  private static <T extends RestBody> T read(String json, Class<T> type) {
    return CODEC.decode(json.getBytes(StandardCharsets.UTF_8), type);
  }

  private static JobResource running() {
    return new JobResource(
        "job-42",
        "alice",
        "captions",
        "in_progress",
        5,
        40.0,
        Optional.of("transcribe"),
        Optional.of("chunk 4/10"),
        OptionalDouble.of(31.5),
        OptionalDouble.of(20.9),
        Map.of("lang", "en"),
        Optional.empty(),
        Optional.empty(),
        CREATED,
        UPDATED,
        Optional.of(CREATED),
        Optional.empty());
  }

  private static JobResource completed() {
    return new JobResource(
        "job-43",
        "bob",
        "pdf",
        "completed",
        9,
        100.0,
        Optional.empty(),
        Optional.empty(),
        OptionalDouble.of(0),
        OptionalDouble.of(12.25),
        Map.of(),
        Optional.of(Map.of("url", "s3://out", "pages", List.of(1, 2.5, true))),
        Optional.empty(),
        CREATED,
        UPDATED,
        Optional.of(CREATED),
        Optional.of(UPDATED));
  }

  @Test
  void aJobResourceIsWrittenInTheDocumentedShape() {
    assertThat(json(running()))
        .isEqualTo(
            "{\"id\":\"job-42\",\"owner\":\"alice\",\"type\":\"captions\",\"status\":\"in_progress\","
                + "\"seq\":5,\"progress\":40.0,\"stage\":\"transcribe\",\"message\":\"chunk 4/10\","
                + "\"eta_seconds\":31.5,\"elapsed_seconds\":20.9,\"metadata\":{\"lang\":\"en\"},"
                + "\"created_at\":\"2026-11-22T10:00:00Z\",\"updated_at\":\"2026-11-22T10:00:20.900Z\","
                + "\"started_at\":\"2026-11-22T10:00:00Z\",\"finished_at\":null}");
  }

  @Test
  void aJobResourceReadsBackAsItWasWritten() {
    assertThat(roundTrip(running())).isEqualTo(running());
    assertThat(roundTrip(completed())).isEqualTo(completed());
    JobResource failed =
        new JobResource(
            "job-44",
            "carol",
            "t",
            "failed",
            3,
            10.0,
            Optional.empty(),
            Optional.of("boom"),
            OptionalDouble.empty(),
            OptionalDouble.empty(),
            Map.of(),
            Optional.empty(),
            Optional.of("disk \"full\"\n"),
            CREATED,
            UPDATED,
            Optional.empty(),
            Optional.of(UPDATED));
    assertThat(roundTrip(failed)).isEqualTo(failed);
  }

  @Test
  void aJobListPageReadsBackAsItWasWritten() {
    JobListPage page = new JobListPage(List.of(running(), completed()), 7, 2, 2);

    assertThat(json(page)).startsWith("{\"jobs\":[{\"id\":\"job-42\"");
    assertThat(json(page)).endsWith("}],\"total\":7,\"offset\":2,\"limit\":2}");
    assertThat(roundTrip(page)).isEqualTo(page);
  }

  @Test
  void historyEntriesAreProgressMessagesWithoutReplay() {
    JobState state =
        new JobState(
            "job-42",
            2,
            "in_progress",
            40.0,
            Optional.empty(),
            Optional.of("chunk 4/10"),
            OptionalDouble.empty(),
            OptionalDouble.of(1.5),
            UPDATED,
            Map.of("k", List.of("v")),
            Optional.empty(),
            Optional.empty());
    HistoryPage history = new HistoryPage("job-42", List.of(state));

    String progress =
        new String(
            new WireCodec(32).encode(new ServerMessage.Progress(state, false)),
            StandardCharsets.UTF_8);
    assertThat(json(history)).isEqualTo("{\"job_id\":\"job-42\",\"events\":[" + progress + "]}");
    assertThat(roundTrip(history)).isEqualTo(history);
    assertThat(roundTrip(new HistoryPage("job-42", List.of())).events()).isEmpty();
  }

  @Test
  void aBatchResultListsOutcomesThenCounts() {
    BatchResult result =
        new BatchResult(
            List.of(
                new BatchResult.Accepted("job-1", 2, "in_progress"),
                new BatchResult.Rejected(
                    Optional.of("job-2"), ErrorCode.JOB_NOT_FOUND, "job not found: job-2"),
                new BatchResult.Rejected(
                    Optional.empty(), ErrorCode.INVALID_REQUEST, "missing field: job_id")));

    assertThat(json(result))
        .isEqualTo(
            "{\"results\":[{\"job_id\":\"job-1\",\"ok\":true,\"seq\":2,\"status\":\"in_progress\"},"
                + "{\"job_id\":\"job-2\",\"ok\":false,\"code\":\"job_not_found\","
                + "\"error\":\"job not found: job-2\"},"
                + "{\"job_id\":null,\"ok\":false,\"code\":\"invalid_request\","
                + "\"error\":\"missing field: job_id\"}],\"accepted\":1,\"rejected\":2}");
    assertThat(roundTrip(result)).isEqualTo(result);
  }

  @Test
  void statsCountEachStatusThenTheirTotal() {
    Map<String, Long> byStatus = new LinkedHashMap<>();
    byStatus.put("pending", 2L);
    byStatus.put("completed", 3L);
    ServerStats stats =
        new ServerStats(
            byStatus,
            new ServerStats.Connections(4, 5, 1),
            new ServerStats.Rates(12.5, 250.25),
            new ServerStats.Store(3, 0.75, 4.5));

    assertThat(json(stats))
        .isEqualTo(
            "{\"jobs\":{\"pending\":2,\"completed\":3,\"total\":5},"
                + "\"connections\":{\"open\":4,\"subscriptions\":5,\"watched_jobs\":1},"
                + "\"rates\":{\"publishes_per_second\":12.5,\"deliveries_per_second\":250.25},"
                + "\"store\":{\"pending_writes\":3,\"commit_ms_p50\":0.75,\"commit_ms_p99\":4.5}}");
    assertThat(roundTrip(stats)).isEqualTo(stats);
    ServerStats older =
        read(
            "{\"jobs\":{\"pending\":2,\"total\":2},"
                + "\"connections\":{\"open\":4,\"subscriptions\":5,\"watched_jobs\":1}}",
            ServerStats.class);
    assertThat(older.rates()).isEqualTo(ServerStats.Rates.NONE);
    assertThat(older.store()).isEqualTo(ServerStats.Store.NONE);
  }

  @Test
  void anErrorIsItsTextThenItsCode() {
    ErrorBody error = new ErrorBody("no such \"thing\"", ErrorCode.NOT_FOUND);

    assertThat(json(error))
        .isEqualTo("{\"error\":\"no such \\\"thing\\\"\",\"code\":\"not_found\"}");
    assertThat(roundTrip(error)).isEqualTo(error);
  }

  @Test
  void healthIsStatusOk() {
    assertThat(json(Health.OK)).isEqualTo("{\"status\":\"ok\"}");
    assertThat(roundTrip(Health.OK)).isEqualTo(Health.OK);
  }

  @Test
  void aCreateRequestWritesOnlyTheFieldsThatAreSet() {
    CreateJobRequest request =
        CreateJobRequest.builder()
            .id("job-42")
            .type("captions")
            .metadata(Map.of("lang", "en"))
            .build();

    assertThat(json(request))
        .isEqualTo("{\"id\":\"job-42\",\"type\":\"captions\",\"metadata\":{\"lang\":\"en\"}}");
    assertThat(roundTrip(request)).isEqualTo(request);
    assertThat(json(CreateJobRequest.builder().build())).isEqualTo("{}");
    assertThat(roundTrip(CreateJobRequest.builder().build()))
        .isEqualTo(CreateJobRequest.builder().build());
  }

  @Test
  void aPublishRequestKeepsNullsInMetadataWhichRemoveKeys() {
    Map<String, Object> metadata = new HashMap<>();
    metadata.put("gone", null);
    metadata.put("n", 2);
    PublishRequest request =
        PublishRequest.builder()
            .status("completed")
            .progress(100)
            .stage("encode")
            .message("done")
            .metadata(metadata)
            .result(Map.of("url", "s3://out"))
            .etaSeconds(0)
            .eventId("w1-9")
            .build();

    PublishRequest read = roundTrip(request);

    assertThat(read).isEqualTo(request);
    assertThat(read.metadata().orElseThrow()).containsEntry("gone", null);
    assertThat(json(PublishRequest.builder().error("disk full").build()))
        .isEqualTo("{\"error\":\"disk full\"}");
  }

  @Test
  void aBatchRequestKeepsEntriesItCannotReadAsTheyWereSent() {
    BatchRequest batch =
        read(
            "{\"events\":[{\"job_id\":\"job-1\",\"progress\":10},42,null,{\"progress\":1},"
                + "{\"job_id\":7},{\"job_id\":\"job-2\",\"percent\":5}]}",
            BatchRequest.class);

    assertThat(batch.events())
        .containsExactly(
            new BatchRequest.Event("job-1", PublishRequest.builder().progress(10).build()),
            new BatchRequest.Unreadable(
                Optional.of(42), Optional.empty(), "each event must be a JSON object"),
            new BatchRequest.Unreadable(
                Optional.empty(), Optional.empty(), "each event must be a JSON object"),
            new BatchRequest.Unreadable(
                Optional.of(Map.of("progress", 1)), Optional.empty(), "missing field: job_id"),
            new BatchRequest.Unreadable(
                Optional.of(Map.of("job_id", 7)),
                Optional.empty(),
                "job_id: 7 (expected: a string)"),
            new BatchRequest.Unreadable(
                Optional.of(Map.of("job_id", "job-2", "percent", 5)),
                Optional.of("job-2"),
                "unknown field: 'percent' (expected any of: error, eta_seconds, event_id,"
                    + " message, metadata, progress, result, stage, status)"));
    assertThat(json(batch))
        .isEqualTo(
            "{\"events\":[{\"job_id\":\"job-1\",\"progress\":10.0},42,null,{\"progress\":1},"
                + "{\"job_id\":7},{\"job_id\":\"job-2\",\"percent\":5}]}");
    assertThat(roundTrip(batch)).isEqualTo(batch);
  }

  @Test
  void aRequestWithAnUnknownFieldIsRefusedNamingIt() {
    assertThatThrownBy(() -> read("{\"id\":\"x\",\"priority\":5}", CreateJobRequest.class))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessage(
            "unknown field: 'priority' (expected any of: id, message, metadata, owner, stage,"
                + " status, type)");
    assertThatThrownBy(() -> read("{\"event\":[]}", BatchRequest.class))
        .hasMessage("unknown field: 'event' (expected any of: events)");
  }

  @Test
  void aFieldOfTheWrongTypeIsRefusedNamingTheFieldAndTheValue() {
    assertThatThrownBy(() -> read("{\"progress\":\"fifty\"}", PublishRequest.class))
        .hasMessage("progress: \"fifty\" (expected: a number)");
    assertThatThrownBy(() -> read("{\"metadata\":[1,2]}", PublishRequest.class))
        .hasMessage("metadata: [1,2] (expected: a JSON object)");
    assertThatThrownBy(() -> read("{\"stage\":{\"a\":1}}", CreateJobRequest.class))
        .hasMessage("stage: {\"a\":1} (expected: a string)");
    assertThatThrownBy(() -> read("{\"events\":{}}", BatchRequest.class))
        .hasMessage("events: expected an array of events");
  }

  @Test
  void aBodyThatIsNotOneJsonObjectIsRefused() {
    for (String body : List.of("{\"id\":", "not json", "{\"a\":1}}", "{}{}")) {
      assertThatThrownBy(() -> read(body, CreateJobRequest.class))
          .as(body)
          .isInstanceOfSatisfying(
              ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_JSON))
          .hasMessage("request body is not valid JSON");
    }
    for (String body : List.of("", "[]", "42", "\"job\"")) {
      assertThatThrownBy(() -> read(body, PublishRequest.class))
          .as(body)
          .isInstanceOfSatisfying(
              ProtocolException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
          .hasMessage("request body must be a JSON object");
    }
    String deep = "{\"metadata\":" + "{\"a\":".repeat(40) + "1" + "}".repeat(40) + "}";
    assertThatThrownBy(() -> read(deep, PublishRequest.class))
        .hasMessage("request body nests too deep or is too large");
  }

  @Test
  void aResponseMayCarryFieldsTheReaderDoesNotKnow() {
    assertThat(read("{\"status\":\"ok\",\"version\":\"2\"}", Health.class)).isEqualTo(Health.OK);
    assertThat(read("{\"error\":\"gone\",\"code\":\"job_not_found\",\"hint\":1}", ErrorBody.class))
        .isEqualTo(new ErrorBody("gone", ErrorCode.JOB_NOT_FOUND));
  }

  @Test
  void aResponseWithoutARequiredFieldIsRefused() {
    assertThatThrownBy(() -> read("{\"id\":\"job-1\"}", JobResource.class))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MISSING_FIELD))
        .hasMessage("missing field: owner");
    assertThatThrownBy(() -> read("{\"error\":\"x\",\"code\":\"no_such_code\"}", ErrorBody.class))
        .hasMessage("code: 'no_such_code' (expected: an error code)");
  }
}
