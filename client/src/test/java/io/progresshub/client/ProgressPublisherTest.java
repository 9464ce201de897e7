package io.progresshub.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.protocol.CreateJobRequest;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.JobListPage;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.PublishRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressPublisherTest {
  @TempDir static Path dataDir;
  static TestHub hub;
  static ProgressPublisher publisher;

  @BeforeAll
  static void start() {
    hub = TestHub.start(dataDir);
    publisher = hub.publisher();
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  @Test
  void aJobCreatedThenPublishedToThenCompletedReadsBackAsCompleted() {
    JobResource created =
        publisher.create(
            CreateJobRequest.builder().type("captions").metadata(Map.of("lang", "en")).build());
    assertThat(created.id()).startsWith("job-");
    assertThat(created.seq()).isEqualTo(1);

    publisher.progress(created.id(), 40, "transcribe", "chunk 4/10");
    assertThat(publisher.get(created.id()).orElseThrow())
        .satisfies(
            job -> {
              assertThat(job.status()).isEqualTo("in_progress");
              assertThat(job.progress()).isEqualTo(40.0);
              assertThat(job.stage()).contains("transcribe");
              assertThat(job.message()).contains("chunk 4/10");
            });

    publisher.metadata(created.id(), Map.of("chunks", 10));
    JobResource done = publisher.complete(created.id(), Map.of("captions", "s3://bucket/a.vtt"));

    assertThat(done.status()).isEqualTo("completed");
    assertThat(done.result()).contains(Map.of("captions", "s3://bucket/a.vtt"));
    assertThat(done.metadata()).containsEntry("lang", "en").containsEntry("chunks", 10);
  }

  @Test
  void anEventPublishedTwiceWithOneEventIdIsAppliedOnce() {
    String id = publisher.create().id();
    PublishRequest event = PublishRequest.builder().progress(10).eventId("tick-1").build();

    JobResource first = publisher.publish(id, event);
    JobResource again = publisher.publish(id, event);

    assertThat(again.seq()).isEqualTo(first.seq());
    assertThat(publisher.get(id).orElseThrow().seq()).isEqualTo(first.seq());
  }

  @Test
  void refusalsCarryTheServersErrorCodeAndStatus() {
    assertThatThrownBy(() -> publisher.progress("no-such-job", 10, null, null))
        .isInstanceOfSatisfying(
            HubApiException.class,
            e -> {
              assertThat(e.errorCode()).isEqualTo(ErrorCode.JOB_NOT_FOUND);
              assertThat(e.httpStatus()).isEqualTo(404);
            });

    String id = publisher.create().id();
    publisher.fail(id, "disk full");
    assertThatThrownBy(() -> publisher.progress(id, 50, null, null))
        .isInstanceOfSatisfying(
            HubApiException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.JOB_FINISHED));
  }

  @Test
  void aWorkerLearnsOfACancelFromItsNextPublish() {
    String id = publisher.create().id();
    publisher.status(id, "in_progress");

    assertThat(publisher.cancel(id).status()).isEqualTo("cancelled");
    assertThatThrownBy(() -> publisher.progress(id, 60, null, null))
        .isInstanceOfSatisfying(
            HubApiException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.JOB_CANCELLED));
  }

  @Test
  void getAnswersEmptyForAJobThatDoesNotExist() {
    assertThat(publisher.get("never-created")).isEmpty();
  }

  @Test
  void listFiltersByStatusAndType() {
    String type = "list-test";
    String running = publisher.create(CreateJobRequest.builder().type(type).build()).id();
    String done = publisher.create(CreateJobRequest.builder().type(type).build()).id();
    publisher.progress(running, 5, null, null);
    publisher.progress(done, 5, null, null);
    publisher.complete(done, Map.of());

    JobListPage completed = publisher.list(JobQuery.ALL.withType(type).withStatus("completed"));

    assertThat(completed.jobs()).extracting(JobResource::id).containsExactly(done);
    assertThat(publisher.list(JobQuery.ALL.withType(type)).total()).isEqualTo(2);
  }

  @Test
  void aRetryAfterALostAnswerDoesNotApplyTheEventTwice() throws Exception {
    try (FlakyFront front = new FlakyFront(hub.url())) {
      ProgressPublisher flaky =
          ProgressPublisher.builder(front.url())
              .token(hub.publisherToken())
              .backoff(new Backoff(Duration.ofMillis(10), Duration.ofMillis(50)))
              .build();
      String id = flaky.create().id();
      long before = flaky.get(id).orElseThrow().seq();

      front.next(List.of(new FlakyFront.LoseAnswer()));
      JobResource after = flaky.progress(id, 30, "encode", null);

      assertThat(after.seq()).isEqualTo(before + 1);
      assertThat(flaky.get(id).orElseThrow().seq()).isEqualTo(before + 1);
    }
  }

  @Test
  void aCreateRetriedAfterALostAnswerAnswersTheOneJobItMade() throws Exception {
    try (FlakyFront front = new FlakyFront(hub.url())) {
      ProgressPublisher flaky =
          ProgressPublisher.builder(front.url())
              .token(hub.publisherToken())
              .backoff(new Backoff(Duration.ofMillis(10), Duration.ofMillis(50)))
              .build();
      front.next(List.of(new FlakyFront.LoseAnswer()));

      JobResource job = flaky.create(CreateJobRequest.builder().type("lost-create").build());

      assertThat(job.seq()).isEqualTo(1);
      assertThat(publisher.list(JobQuery.ALL.withType("lost-create")).total()).isEqualTo(1);
    }
  }

  @Test
  void a503IsRetriedAfterTheServersRetryAfter() throws Exception {
    try (FlakyFront front = new FlakyFront(hub.url())) {
      ProgressPublisher flaky =
          ProgressPublisher.builder(front.url()).token(hub.publisherToken()).build();
      String id = flaky.create().id();
      front.next(List.of(new FlakyFront.Answer(503, "1"), new FlakyFront.Answer(429, "1")));
      int requestsBefore = front.requests.get();
      long started = System.nanoTime();

      JobResource job = flaky.progress(id, 20, null, null);

      assertThat(job.progress()).isEqualTo(20.0);
      assertThat(front.requests.get() - requestsBefore).isEqualTo(3);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }
  }

  @Test
  void anUnreachableServerFailsWithAConnectionErrorAfterTheLastAttempt() {
    ProgressPublisher nowhere =
        ProgressPublisher.builder(java.net.URI.create("http://127.0.0.1:1"))
            .maxAttempts(3)
            .backoff(new Backoff(Duration.ofMillis(5), Duration.ofMillis(10)))
            .build();

    assertThatThrownBy(nowhere::create)
        .isInstanceOf(HubConnectionException.class)
        .hasMessageContaining("after 3 attempts");
  }
}
