package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class JobRulesTest {

  private static final Instant T0 = Instant.parse("2025-01-01T12:00:00Z");

  private static Job newJob(JobStatus status) {
    return JobRules.created(NewJob.builder().id("job-1").status(status).build(), "job-1", T0);
  }

  private static Job pending() {
    return newJob(JobStatus.PENDING);
  }

  private static Job apply(Job job, JobUpdate.Builder update, Duration at) {
    return JobRules.apply(job, update.build(), T0.plus(at));
  }

  private static Job apply(Job job, JobUpdate.Builder update) {
    return apply(job, update, Duration.ZERO);
  }

  private static JobUpdate.Builder status(JobStatus status) {
    return JobUpdate.builder().status(status);
  }

  private static JobUpdate.Builder progress(double progress) {
    return JobUpdate.builder().progress(progress);
  }

  private static Job running() {
    return apply(pending(), status(JobStatus.IN_PROGRESS));
  }

  private static Job finished(JobStatus terminal) {
    return apply(running(), status(terminal));
  }

  // ---------------------------------------------------------------- seq and status

  @Test
  void newJobStartsAtSeqOneWithItsRequestedState() {
    Job job =
        JobRules.created(
            NewJob.builder()
                .owner("alice")
                .type("transcode")
                .status(JobStatus.QUEUED)
                .stage("upload")
                .metadata(Map.of("file", "a.mp4"))
                .build(),
            "job-7",
            T0);

    assertThat(job.id()).isEqualTo("job-7");
    assertThat(job.seq()).isEqualTo(1);
    assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(job.owner()).isEqualTo("alice");
    assertThat(job.type()).isEqualTo("transcode");
    assertThat(job.progress()).isZero();
    assertThat(job.stage()).contains("upload");
    assertThat(job.metadata()).containsExactly(Map.entry("file", "a.mp4"));
    assertThat(job.createdAt()).isEqualTo(T0);
    assertThat(job.startedAt()).isEmpty();
    assertThat(job.etaSeconds()).isEmpty();
    assertThat(job.elapsedSeconds()).isEmpty();
  }

  @Test
  void everyAcceptedEventAdvancesSeqByOne() {
    Job job = pending();
    List<JobUpdate.Builder> events =
        List.of(
            status(JobStatus.QUEUED),
            status(JobStatus.IN_PROGRESS),
            progress(10),
            JobUpdate.builder().message("still going"),
            JobUpdate.builder().stage("encode"),
            progress(90),
            status(JobStatus.COMPLETED));
    long expected = 1;
    for (JobUpdate.Builder event : events) {
      job = apply(job, event);
      expected++;
      assertThat(job.seq()).isEqualTo(expected);
    }
    assertThat(job.seq()).isEqualTo(8);
  }

  @ParameterizedTest
  @EnumSource(
      value = JobStatus.class,
      names = {"PENDING", "QUEUED"})
  void progressOnAJobThatWasNotStartedStartsIt(JobStatus notStarted) {
    Job job = apply(newJob(notStarted), progress(5), Duration.ofSeconds(3));

    assertThat(job.status()).isEqualTo(JobStatus.IN_PROGRESS);
    assertThat(job.progress()).isEqualTo(5);
    assertThat(job.startedAt()).contains(T0.plusSeconds(3));
  }

  @Test
  void explicitStatusWinsOverTheImplicitStartOfAProgressUpdate() {
    Job job = apply(pending(), status(JobStatus.QUEUED).progress(0));

    assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void completingSetsProgressToHundredAndEtaToZero() {
    Job job = apply(running(), progress(40), Duration.ofSeconds(10));
    job = apply(job, status(JobStatus.COMPLETED), Duration.ofSeconds(20));

    assertThat(job.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(job.progress()).isEqualTo(100);
    assertThat(job.etaSeconds()).hasValue(0);
    assertThat(job.finishedAt()).contains(T0.plusSeconds(20));
  }

  @Test
  void completedJobCarriesItsResult() {
    Map<String, Object> result = Map.of("captions", "s3://bucket/captions.vtt");
    Job job = apply(running(), status(JobStatus.COMPLETED).result(result));

    assertThat(job.result()).contains(result);
    assertThat(job.error()).isEmpty();
  }

  @Test
  void failedJobCarriesItsErrorAndNoEta() {
    Job job = apply(running(), progress(30).etaSeconds(50));
    job = apply(job, status(JobStatus.FAILED).error("disk full"));

    assertThat(job.status()).isEqualTo(JobStatus.FAILED);
    assertThat(job.error()).contains("disk full");
    assertThat(job.result()).isEmpty();
    assertThat(job.progress()).isEqualTo(30);
    assertThat(job.etaSeconds()).isEmpty();
  }

  @Test
  void failedJobWithoutAnErrorGetsOneFromItsMessage() {
    assertThat(apply(running(), status(JobStatus.FAILED).message("worker died")).error())
        .contains("worker died");
    assertThat(apply(running(), status(JobStatus.FAILED)).error()).contains("failed");
  }

  @ParameterizedTest
  @EnumSource(
      value = JobStatus.class,
      names = {"COMPLETED"},
      mode = EnumSource.Mode.EXCLUDE)
  void resultIsOnlyAcceptedWithCompleted(JobStatus status) {
    // From a status that may move to it, so only the result is wrong.
    Job job = status == JobStatus.PENDING || status == JobStatus.QUEUED ? pending() : running();

    assertThatThrownBy(() -> apply(job, status(status).result("done")))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID);
              assertThat(e.code()).isEqualTo("invalid_request");
              assertThat(e.getMessage()).contains("result");
            });
  }

  @Test
  void resultWithoutAStatusOnARunningJobIsInvalid() {
    assertThatThrownBy(() -> apply(running(), JobUpdate.builder().result("done")))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID));
  }

  @ParameterizedTest
  @EnumSource(
      value = JobStatus.class,
      names = {"IN_PROGRESS", "COMPLETED", "CANCELLED"})
  void errorIsOnlyAcceptedWithFailed(JobStatus status) {
    assertThatThrownBy(() -> apply(running(), status(status).error("boom")))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID);
              assertThat(e.code()).isEqualTo("invalid_request");
              assertThat(e.getMessage()).contains("error");
            });
  }

  @ParameterizedTest
  @EnumSource(
      value = JobStatus.class,
      names = {"COMPLETED", "FAILED"})
  void finishedJobRefusesEventsWithJobFinished(JobStatus terminal) {
    Job job = finished(terminal);

    assertThatThrownBy(() -> apply(job, progress(50)))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.CONFLICT);
              assertThat(e.code()).isEqualTo("job_finished");
            });
  }

  @Test
  void cancelledJobRefusesEventsWithJobCancelled() {
    Job job = finished(JobStatus.CANCELLED);

    for (JobUpdate.Builder event :
        List.of(progress(50), status(JobStatus.COMPLETED), status(JobStatus.CANCELLED))) {
      assertThatThrownBy(() -> apply(job, event))
          .isInstanceOfSatisfying(
              HubException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(HubException.Kind.CONFLICT);
                assertThat(e.code()).isEqualTo("job_cancelled");
              });
    }
  }

  @Test
  void refusedStatusChangeIsAnInvalidTransition() {
    List<Job> jobs = List.of(pending(), newJob(JobStatus.QUEUED), running());
    List<JobStatus> refused = List.of(JobStatus.COMPLETED, JobStatus.PENDING, JobStatus.QUEUED);
    for (int i = 0; i < jobs.size(); i++) {
      Job job = jobs.get(i);
      JobStatus next = refused.get(i);
      assertThatThrownBy(() -> apply(job, status(next)))
          .as("%s -> %s", job.status(), next)
          .isInstanceOfSatisfying(
              HubException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(HubException.Kind.CONFLICT);
                assertThat(e.code()).isEqualTo("invalid_transition");
                assertThat(e.getMessage()).contains(next.wireName());
              });
    }
  }

  // ---------------------------------------------------------------- fields

  @Test
  void metadataIsMergedShallowlyAndNullRemovesAKey() {
    Job job =
        JobRules.created(
            NewJob.builder()
                .metadata(Map.of("file", "a.mp4", "size", 10, "tags", Map.of("lang", "en")))
                .build(),
            "job-1",
            T0);
    Map<String, Object> patch = new HashMap<>();
    patch.put("size", 20);
    patch.put("tags", Map.of("speaker", "bob"));
    patch.put("file", null);
    patch.put("added", true);

    Job merged = apply(job, JobUpdate.builder().metadata(patch));

    assertThat(merged.metadata())
        .containsOnly(
            Map.entry("size", 20),
            Map.entry("tags", Map.of("speaker", "bob")), // replaced, not deep-merged
            Map.entry("added", true));
  }

  @Test
  void eventWithoutMetadataKeepsIt() {
    Job job =
        JobRules.created(NewJob.builder().metadata(Map.of("file", "a.mp4")).build(), "job-1", T0);

    assertThat(apply(job, progress(10)).metadata()).containsExactly(Map.entry("file", "a.mp4"));
  }

  @Test
  void newJobAcceptsImmutableMetadataMaps() {
    // Regression: Map.of().containsValue(null) throws, which broke every NewJob.builder().build().
    assertThat(NewJob.builder().build().metadata()).isEmpty();
    assertThat(NewJob.builder().metadata(Map.of("a", 1, "b", 2)).build().metadata())
        .containsOnly(Map.entry("a", 1), Map.entry("b", 2));
  }

  @Test
  void newJobDropsNullMetadataValues() {
    Map<String, Object> metadata = new HashMap<>();
    metadata.put("file", "a.mp4");
    metadata.put("gone", null);

    assertThat(NewJob.builder().metadata(metadata).build().metadata())
        .containsExactly(Map.entry("file", "a.mp4"));
  }

  @Test
  void stageAndMessageStayUntilReplaced() {
    Job job = apply(running(), JobUpdate.builder().stage("encode").message("frame 1"));
    job = apply(job, progress(20));

    assertThat(job.stage()).contains("encode");
    assertThat(job.message()).contains("frame 1");

    job = apply(job, JobUpdate.builder().message("frame 2"));
    assertThat(job.stage()).contains("encode");
    assertThat(job.message()).contains("frame 2");
  }

  // ---------------------------------------------------------------- eta and elapsed

  @Test
  void etaIsExtrapolatedFromTheRateSinceTheJobStarted() {
    Job job = apply(pending(), progress(0));
    job = apply(job, progress(50), Duration.ofSeconds(10));

    assertThat(job.etaSeconds()).hasValue(10);
  }

  @Test
  void etaRateIsMeasuredFromTheFirstReportedProgress() {
    // A first tick at 40% says nothing about how long the first 40% took.
    Job job = apply(pending(), progress(40));
    job = apply(job, progress(70), Duration.ofSeconds(30));

    assertThat(job.etaSeconds()).hasValue(30);
  }

  @Test
  void etaIsRoundedToATenthOfASecond() {
    Job job = apply(pending(), progress(0));
    job = apply(job, progress(30), Duration.ofSeconds(10));

    assertThat(job.etaSeconds()).hasValue(23.3);
  }

  @Test
  void producerSentEtaWinsOverTheExtrapolatedOne() {
    Job job = apply(pending(), progress(0));
    job = apply(job, progress(50).etaSeconds(99), Duration.ofSeconds(10));

    assertThat(job.etaSeconds()).hasValue(99);
  }

  @Test
  void noEtaUntilTheJobHasMadeProgress() {
    assertThat(pending().etaSeconds()).isEmpty();
    Job started = running();
    assertThat(started.etaSeconds()).isEmpty();
    assertThat(apply(started, JobUpdate.builder().message("warming up"), Duration.ofSeconds(5)))
        .extracting(Job::etaSeconds)
        .isEqualTo(OptionalDouble.empty());
  }

  @Test
  void elapsedSecondsRunFromStartToTheLatestEventThenStopAtTheFinish() {
    Job job = apply(pending(), status(JobStatus.IN_PROGRESS), Duration.ofSeconds(2));
    assertThat(job.elapsedSeconds()).hasValue(0);

    job = apply(job, progress(50), Duration.ofMillis(14_500));
    assertThat(job.elapsedSeconds().getAsDouble()).isCloseTo(12.5, within(1e-9));

    job = apply(job, status(JobStatus.COMPLETED), Duration.ofSeconds(22));
    assertThat(job.elapsedSeconds()).hasValue(20);
  }

  @Test
  void jobThatNeverStartedHasNoElapsedTime() {
    Job job = apply(pending(), status(JobStatus.CANCELLED), Duration.ofSeconds(30));

    assertThat(job.elapsedSeconds()).isEmpty();
  }

  // ---------------------------------------------------------------- transitions

  @Test
  void statusChangeIsATransition() {
    Job previous = pending();
    assertThat(JobRules.isTransition(previous, apply(previous, status(JobStatus.QUEUED)))).isTrue();
  }

  @Test
  void stageChangeIsATransition() {
    Job previous = running();
    assertThat(JobRules.isTransition(previous, apply(previous, JobUpdate.builder().stage("a"))))
        .isTrue();
  }

  @Test
  void terminalEventIsATransition() {
    Job previous = apply(running(), progress(99));
    assertThat(JobRules.isTransition(previous, apply(previous, status(JobStatus.COMPLETED))))
        .isTrue();
  }

  @Test
  void plainProgressTickIsNotATransition() {
    Job previous = apply(running(), JobUpdate.builder().stage("encode").progress(10));
    Job tick = apply(previous, progress(20).message("frame 20").etaSeconds(5));

    assertThat(JobRules.isTransition(previous, tick)).isFalse();
  }

  @Test
  void sameStageAgainIsNotATransition() {
    Job previous = apply(running(), JobUpdate.builder().stage("encode"));

    assertThat(JobRules.isTransition(previous, apply(previous, progress(20).stage("encode"))))
        .isFalse();
  }

  // ---------------------------------------------------------------- input validation

  @ParameterizedTest
  @ValueSource(doubles = {-0.1, 100.1, Double.NaN, Double.POSITIVE_INFINITY, -1e9})
  void progressOutsideZeroToHundredIsInvalid(double progress) {
    assertInvalid(() -> JobUpdate.builder().progress(progress).build(), "progress");
  }

  @ParameterizedTest
  @ValueSource(doubles = {0, 0.5, 100})
  void progressFromZeroToHundredIsAccepted(double progress) {
    assertThat(JobUpdate.builder().progress(progress).build().progress()).hasValue(progress);
  }

  @ParameterizedTest
  @ValueSource(doubles = {-1, -0.001, Double.NaN, Double.POSITIVE_INFINITY})
  void negativeOrNonFiniteEtaIsInvalid(double eta) {
    assertInvalid(() -> JobUpdate.builder().etaSeconds(eta).build(), "eta_seconds");
  }

  @Test
  void zeroEtaIsAccepted() {
    assertThat(JobUpdate.builder().etaSeconds(0).build().etaSeconds()).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, JobUpdate.MAX_EVENT_ID_LENGTH + 1})
  void eventIdOfBadLengthIsInvalid(int length) {
    assertInvalid(() -> JobUpdate.builder().eventId("e".repeat(length)).build(), "event_id");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, JobUpdate.MAX_EVENT_ID_LENGTH})
  void eventIdOfOneToMaxCharactersIsAccepted(int length) {
    String id = "e".repeat(length);
    assertThat(JobUpdate.builder().eventId(id).build().eventId()).contains(id);
  }

  @Test
  void newJobMayOnlyStartPendingOrQueued() {
    for (JobStatus status : JobStatus.values()) {
      if (status == JobStatus.PENDING || status == JobStatus.QUEUED) {
        assertThat(NewJob.builder().status(status).build().status()).isEqualTo(status);
      } else {
        assertInvalid(() -> NewJob.builder().status(status).build(), "status");
      }
    }
  }

  @Test
  void jobIdOfMaxLengthIsValid() {
    assertThat(JobIds.isValid("a".repeat(JobIds.MAX_LENGTH))).isTrue();
    assertThat(JobIds.MAX_LENGTH).isEqualTo(128);
  }

  @Test
  void jobIdLongerThanMaxIsInvalid() {
    String id = "a".repeat(JobIds.MAX_LENGTH + 1);
    assertThat(JobIds.isValid(id)).isFalse();
    assertThatThrownBy(() -> JobIds.check(id))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID);
              assertThat(e.code()).isEqualTo("invalid_job_id");
              assertThat(e.getMessage()).contains("1-128");
            });
  }

  @ParameterizedTest
  @ValueSource(strings = {"job-1", "a", "A.b_c:d-9", "job:2025-01-01T00.00"})
  void jobIdOfAllowedCharactersIsValid(String id) {
    assertThat(JobIds.isValid(id)).isTrue();
    assertThat(JobIds.check(id)).isEqualTo(id);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "job 1", "job/1", "job?1", "jöb", "job#1", "../etc", "a\nb", "job%20"})
  void jobIdWithBadCharactersIsInvalid(String id) {
    assertThat(JobIds.isValid(id)).isFalse();
    assertThatThrownBy(() -> JobIds.check(id))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("invalid_job_id"));
  }

  @Test
  void missingJobIdIsInvalid() {
    assertThat(JobIds.isValid(null)).isFalse();
    assertThatThrownBy(() -> JobIds.check(null))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.getMessage()).contains("missing"));
  }

  @Test
  void generatedJobIdsAreValidAndDistinct() {
    String first = JobIds.generate();
    String second = JobIds.generate();

    assertThat(JobIds.isValid(first)).isTrue();
    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void newJobWithABadIdIsRefused() {
    assertThatThrownBy(() -> NewJob.builder().id("no spaces").build())
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("invalid_job_id"));
  }

  private static void assertInvalid(Runnable action, String field) {
    assertThatThrownBy(action::run)
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID);
              assertThat(e.code()).isEqualTo("invalid_request");
              assertThat(e.getMessage()).startsWith(field + ":");
            });
  }
}
