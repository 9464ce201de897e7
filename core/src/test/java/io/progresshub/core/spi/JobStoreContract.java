package io.progresshub.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link JobStore} must have, as stated in its Javadoc. A store module extends
 * this class, implements {@link #newStore()} and, if its jobs survive a restart, {@link #reopen}.
 *
 * <p>Snapshots are built with {@link JobRules}, so the states are the ones a hub would append.
 * Timestamps have millisecond precision (the least a store must keep); JSON values use the Java
 * types a JSON parser gives back ({@code Integer}, {@code Long}, {@code Double}, {@code String},
 * {@code Boolean}, lists, maps, {@code null} inside containers), so equality survives a round trip.
 */
public abstract class JobStoreContract {

  private static final Instant T0 = Instant.parse("2026-03-01T09:00:00Z");
  private static final Duration AWAIT = Duration.ofSeconds(30);

  /** The store under test; closed after each test. */
  protected JobStore store;

  private final List<JobStore> opened = new ArrayList<>();
  private long clockMillis;

  /** A new, empty store. Called once before each test. */
  protected abstract JobStore newStore();

  /**
   * A new store over the data of {@code closed}, which the caller has closed; empty (the default)
   * when the store keeps nothing across a restart.
   */
  protected Optional<JobStore> reopen(JobStore closed) {
    return Optional.empty();
  }

  @BeforeEach
  void openStore() {
    store = track(newStore());
  }

  @AfterEach
  void closeStores() {
    for (JobStore each : opened) {
      each.close();
    }
  }

  // ------------------------------------------------------------------ create and find

  @Test
  void appendOfSeqOneCreatesTheJob() {
    Job job = created("job-1");

    await(store.append(first(job)));

    assertThat(store.find("job-1")).contains(job);
  }

  @Test
  void secondAppendOfSeqOneFailsWithJobExistsAndKeepsTheOriginal() {
    Job original = created("job-1", "alice", "video");
    await(store.append(first(original)));

    Job duplicate = created("job-1", "bob", "pdf");
    CompletableFuture<Void> second = store.append(first(duplicate));

    assertThat(failureOf(second))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("job_exists"));
    assertThat(store.find("job-1")).contains(original);
    assertThat(store.history("job-1", 0, 100)).containsExactly(original);
  }

  @Test
  void findOfAnUnknownJobIsEmpty() {
    assertThat(store.find("no-such-job")).isEmpty();
  }

  @Test
  void findReturnsTheLatestState() {
    Job job = created("job-1");
    Job started = next(job, update().status(JobStatus.IN_PROGRESS).stage("download"));
    Job ticked = next(started, update().progress(42).message("chunk 4/10").etaSeconds(12.5));
    appendAll(job, started, ticked);

    assertThat(store.find("job-1")).contains(ticked);
  }

  @Test
  void appendedSnapshotsComeBackWithEveryFieldEqual() {
    Job job = created("job-1", "alice", "caption", richMetadata());
    Job started =
        next(job, update().status(JobStatus.IN_PROGRESS).stage("transcribe").progress(12.5));
    Job ticked = next(started, update().progress(40).message("chunk 4/10").etaSeconds(31.5));
    Job done =
        next(ticked, update().status(JobStatus.COMPLETED).result(richResult()).message("done"));
    appendAll(job, started, ticked, done);

    assertThat(store.find("job-1")).contains(done);
    assertThat(store.history("job-1", 0, 100)).containsExactly(job, started, ticked, done);
    Job stored = store.find("job-1").orElseThrow();
    assertThat(stored.metadata()).isEqualTo(job.metadata());
    assertThat(stored.result()).contains(richResult());
    assertThat(stored.startedAt()).isEqualTo(started.startedAt());
    assertThat(stored.finishedAt()).isPresent().isEqualTo(done.finishedAt());
    assertThat(stored.etaSeconds()).isEqualTo(done.etaSeconds());
    assertThat(stored.elapsedSeconds()).isEqualTo(done.elapsedSeconds());
  }

  @Test
  void resultMayBeAnyJsonValue() {
    List<Object> results =
        List.of("s3://bucket/out.vtt", 42, 5_000_000_000L, 0.75, true, List.of(1, "two", 3.5));
    for (int i = 0; i < results.size(); i++) {
      Job job = created("job-" + i);
      Job started = next(job, update().status(JobStatus.IN_PROGRESS));
      Job done = next(started, update().status(JobStatus.COMPLETED).result(results.get(i)));
      appendAll(job, started, done);

      assertThat(store.find("job-" + i)).contains(done);
      assertThat(store.find("job-" + i).orElseThrow().result()).contains(results.get(i));
    }
  }

  @Test
  void failedJobKeepsItsError() {
    Job job = created("job-1");
    Job failed = next(job, update().status(JobStatus.FAILED).error("decoder crashed"));
    appendAll(job, failed);

    Job stored = store.find("job-1").orElseThrow();
    assertThat(stored).isEqualTo(failed);
    assertThat(stored.error()).contains("decoder crashed");
    assertThat(stored.etaSeconds()).isEmpty();
  }

  @Test
  void appendToAJobThatDoesNotExistFailsWithJobNotFound() {
    Job job = created("job-1");
    Job started = next(job, update().status(JobStatus.IN_PROGRESS));

    CompletableFuture<Void> append = store.append(new StoredEvent(started, true, Optional.empty()));

    assertThat(failureOf(append))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("job_not_found"));
    assertThat(store.find("job-1")).isEmpty();
  }

  @Test
  void anEventWhoseSeqDoesNotFollowTheStoredSeqIsRefusedAndLeavesNoTrace() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().stage("download"));
    Job s3 = next(s2, update().stage("transcribe"));
    appendAll(s1);

    // s2 failed on its way to the store; s3 was built on top of it and must not land without it.
    CompletableFuture<Void> skipping = store.append(event(s2, s3, Optional.of("evt-3")));
    CompletableFuture<Void> stale = store.append(first(s1));

    assertFailsAsUnavailable(() -> skipping);
    assertThat(failureOf(stale)).isInstanceOf(HubException.class);
    assertThat(store.find("job-1")).contains(s1);
    assertThat(store.history("job-1", 0, 100)).containsExactly(s1);
    assertThat(store.findByEventId("job-1", "evt-3")).isEmpty();

    await(store.append(event(s1, s2, Optional.empty())));
    await(store.append(event(s2, s3, Optional.of("evt-3"))));
    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s3);
    assertThat(store.findByEventId("job-1", "evt-3")).contains(s3);
  }

  @Test
  void anEventWhoseSeqAnotherWriterTookFailsAsStaleAndLeavesNoTrace() {
    Job s1 = created("job-1");
    Job theirs = next(s1, update().stage("theirs"));
    Job ours = next(s1, update().stage("ours"));
    appendAll(s1);
    await(store.append(event(s1, theirs, Optional.of("theirs"))));

    CompletableFuture<Void> stale = store.append(event(s1, ours, Optional.of("ours")));

    assertStale(stale);
    assertThat(store.find("job-1")).contains(theirs);
    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, theirs);
    assertThat(store.findByEventId("job-1", "ours")).isEmpty();
  }

  @Test
  void anEventFarBehindTheStoredSeqFailsAsStale() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().stage("download"));
    Job s3 = next(s2, update().stage("transcribe"));
    Job late = next(s1, update().progress(10));
    appendAll(s1, s2, s3);

    assertStale(store.append(event(s1, late, Optional.empty())));
    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s3);
  }

  @Test
  void anEventBuiltOnAStateThatLostTheRaceFailsAsStaleThoughItsSeqFollowsTheStoredOne() {
    Job s1 = created("job-1");
    Job theirs2 = next(s1, update().stage("theirs"));
    Job ours2 = next(s1, update().stage("ours"));
    Job ours3 = next(ours2, update().progress(50));
    appendAll(s1);
    await(store.append(event(s1, theirs2, Optional.empty())));

    // Our writer built ours3 on ours2 before it knew that ours2 would lose: landing on theirs2,
    // ours3 would carry ours2's stage over theirs2's, and theirs2's change would be lost.
    CompletableFuture<Void> lost = store.append(event(s1, ours2, Optional.empty()));
    CompletableFuture<Void> builtOnLost = store.append(pipelined(ours2, ours3, Optional.of("e3")));

    assertStale(lost);
    assertStale(builtOnLost);
    assertThat(store.find("job-1")).contains(theirs2);
    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, theirs2);
    assertThat(store.findByEventId("job-1", "e3")).isEmpty();
  }

  @Test
  void anEventBuiltOnTheStoredStateLandsWhetherItNamesTheAppendedStateOrAnEqualOneReadBack() {
    Job s1 = created("job-1", "alice", "caption", richMetadata());
    Job s2 = next(s1, update().status(JobStatus.IN_PROGRESS).stage("transcribe"));
    Job s3 = next(s2, update().stage("encode").metadata(Map.of("chunk", 3, "lang", "fr")));
    appendAll(s1);

    // Pipelined: s3 is built on s2 before s2 is durable.
    CompletableFuture<Void> second = store.append(event(s1, s2, Optional.empty()));
    CompletableFuture<Void> third = store.append(pipelined(s2, s3, Optional.empty()));
    await(second);
    await(third);
    Job readBack = store.find("job-1").orElseThrow();
    Job s4 = next(readBack, update().stage("review").progress(75));
    await(store.append(pipelined(readBack, s4, Optional.of("e4"))));

    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s3, s4);
    assertThat(store.findByEventId("job-1", "e4")).contains(s4);
  }

  @Test
  void ofWritersRacingForOneJobEachSeqGoesToExactlyOneAndEveryChangeLandsOnce() throws Exception {
    Job s1 = created("job-1");
    appendAll(s1);
    int writers = 4;
    int changesPerWriter = 25;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<Integer>> staleCounts = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        String writer = "w" + w;
        staleCounts.add(
            pool.submit(
                () -> {
                  // What a hub does with a shared store: read, apply, compare-and-append, and on
                  // stale_seq read again and apply again.
                  int stale = 0;
                  for (int i = 0; i < changesPerWriter; i++) {
                    while (true) {
                      Job current = store.find("job-1").orElseThrow();
                      Job next = next(current, update().stage(writer + "-" + i));
                      Throwable failure =
                          outcome(store.append(event(current, next, Optional.of(writer + i))));
                      if (failure == null) {
                        break;
                      }
                      assertThat(failure)
                          .isInstanceOfSatisfying(
                              HubException.class,
                              e -> assertThat(e.reason()).isEqualTo(HubException.Code.STALE_SEQ));
                      stale++;
                    }
                  }
                  return stale;
                }));
      }
      for (Future<Integer> staleCount : staleCounts) {
        staleCount.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    List<Job> history = store.history("job-1", 0, 1000);
    assertThat(history)
        .extracting(Job::seq)
        .containsExactlyElementsOf(
            LongStream.rangeClosed(1, 1 + writers * changesPerWriter).boxed().toList());
    for (int w = 0; w < writers; w++) {
      String writer = "w" + w;
      List<String> stages =
          history.stream()
              .flatMap(job -> job.stage().stream())
              .filter(stage -> stage.startsWith(writer + "-"))
              .toList();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < changesPerWriter; i++) {
        expected.add(writer + "-" + i);
      }
      assertThat(stages).as(writer).containsExactlyElementsOf(expected);
    }
  }

  // ------------------------------------------------------------------ history

  @Test
  void historyKeepsEveryTransitionAndOnlyTheLatestTickInSeqOrder() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10)); // pending -> in_progress: a transition
    Job s3 = next(s2, update().progress(20));
    Job s4 = next(s3, update().progress(30));
    Job s5 = next(s4, update().stage("encode")); // stage change: a transition
    Job s6 = next(s5, update().progress(50));
    Job s7 = next(s6, update().progress(60));
    appendAll(s1, s2, s3, s4, s5, s6, s7);

    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s5, s7);

    Job s8 = next(s7, update().status(JobStatus.COMPLETED));
    appendAll(s8);

    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s5, s7, s8);
  }

  @Test
  void historyHonoursAfterSeqAndLimit() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().status(JobStatus.QUEUED));
    Job s3 = next(s2, update().status(JobStatus.IN_PROGRESS).stage("a"));
    Job s4 = next(s3, update().stage("b"));
    Job s5 = next(s4, update().stage("c"));
    Job s6 = next(s5, update().progress(70));
    appendAll(s1, s2, s3, s4, s5, s6);

    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s3, s4, s5, s6);
    assertThat(store.history("job-1", 2, 100)).containsExactly(s3, s4, s5, s6);
    assertThat(store.history("job-1", 2, 2)).containsExactly(s3, s4);
    assertThat(store.history("job-1", 0, 1)).containsExactly(s1);
    assertThat(store.history("job-1", 5, 100)).containsExactly(s6);
    assertThat(store.history("job-1", 6, 100)).isEmpty();
    assertThat(store.history("job-1", 60, 100)).isEmpty();
  }

  @Test
  void historyAfterACompactedTickStartsAtTheNextRetainedEntry() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10));
    Job s3 = next(s2, update().progress(20));
    Job s4 = next(s3, update().progress(30));
    appendAll(s1, s2, s3, s4);

    assertThat(store.history("job-1", 2, 100)).containsExactly(s4);
  }

  @Test
  void historyOfAnUnknownJobIsEmpty() {
    assertThat(store.history("no-such-job", 0, 100)).isEmpty();
  }

  @Test
  void historyOfOneJobHoldsNothingOfAnother() {
    Job a = created("job-a");
    Job b = created("job-b");
    Job a2 = next(a, update().progress(5));
    appendAll(a, b, a2);

    assertThat(store.history("job-b", 0, 100)).containsExactly(b);
    assertThat(store.history("job-a", 0, 100)).containsExactly(a, a2);
  }

  // ------------------------------------------------------------------ event ids

  @Test
  void findByEventIdReturnsTheStateThatEventProduced() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10).eventId("ev-10"));
    Job s3 = next(s2, update().stage("encode").eventId("ev-stage"));
    await(store.append(first(s1)));
    await(store.append(new StoredEvent(s2, true, Optional.of("ev-10"))));
    await(store.append(new StoredEvent(s3, true, Optional.of("ev-stage"))));

    assertThat(store.findByEventId("job-1", "ev-10")).contains(s2);
    assertThat(store.findByEventId("job-1", "ev-stage")).contains(s3);
    assertThat(store.findByEventId("job-1", "ev-unknown")).isEmpty();
    assertThat(store.findByEventId("no-such-job", "ev-10")).isEmpty();
  }

  @Test
  void findByEventIdStillAnswersForATickThatWasCompacted() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10));
    Job s3 = next(s2, update().progress(20).eventId("ev-20"));
    Job s4 = next(s3, update().progress(30).eventId("ev-30"));
    await(store.append(first(s1)));
    await(store.append(new StoredEvent(s2, true, Optional.empty())));
    await(store.append(new StoredEvent(s3, false, Optional.of("ev-20"))));
    await(store.append(new StoredEvent(s4, false, Optional.of("ev-30"))));

    assertThat(store.history("job-1", 0, 100)).containsExactly(s1, s2, s4);
    assertThat(store.findByEventId("job-1", "ev-20")).contains(s3);
    assertThat(store.findByEventId("job-1", "ev-30")).contains(s4);
  }

  @Test
  void eventIdsBelongToOneJob() {
    Job a = created("job-a");
    Job b = created("job-b");
    Job a2 = next(a, update().progress(10));
    Job b2 = next(b, update().progress(90));
    appendAll(a, b);
    await(store.append(new StoredEvent(a2, true, Optional.of("same-id"))));
    await(store.append(new StoredEvent(b2, true, Optional.of("same-id"))));

    assertThat(store.findByEventId("job-a", "same-id")).contains(a2);
    assertThat(store.findByEventId("job-b", "same-id")).contains(b2);
  }

  // ------------------------------------------------------------------ list and count

  @Test
  void listReturnsJobsNewestFirstWithTheTotal() {
    Job oldest = created("job-1");
    Job middle = created("job-2");
    Job newest = created("job-3");
    appendAll(middle, newest, oldest);

    JobPage page = store.list(JobQuery.all());

    assertThat(page.jobs()).containsExactly(newest, middle, oldest);
    assertThat(page.total()).isEqualTo(3);
  }

  @Test
  void listShowsEachJobsLatestState() {
    Job job = created("job-1");
    Job started = next(job, update().progress(33));
    appendAll(job, started);

    assertThat(store.list(JobQuery.all()).jobs()).containsExactly(started);
  }

  @Test
  void listFiltersByStatusOwnerAndType() {
    Job aliceVideoPending = created("job-1", "alice", "video");
    Job aliceVideo = created("job-2", "alice", "video");
    Job alicePdf = created("job-3", "alice", "pdf");
    Job bobVideo = created("job-4", "bob", "video");
    Job bobPdfPending = created("job-5", "bob", "pdf");
    Job aliceVideoRunning = next(aliceVideo, update().status(JobStatus.IN_PROGRESS));
    Job alicePdfRunning = next(alicePdf, update().status(JobStatus.IN_PROGRESS));
    Job bobVideoRunning = next(bobVideo, update().status(JobStatus.IN_PROGRESS));
    appendAll(
        aliceVideoPending,
        aliceVideo,
        alicePdf,
        bobVideo,
        bobPdfPending,
        aliceVideoRunning,
        alicePdfRunning,
        bobVideoRunning);

    assertThat(store.list(query(JobStatus.IN_PROGRESS, null, null)).jobs())
        .containsExactly(bobVideoRunning, alicePdfRunning, aliceVideoRunning);
    assertThat(store.list(query(null, "alice", null)).jobs())
        .containsExactly(alicePdfRunning, aliceVideoRunning, aliceVideoPending);
    assertThat(store.list(query(null, null, "pdf")).jobs())
        .containsExactly(bobPdfPending, alicePdfRunning);
    assertThat(store.list(query(JobStatus.IN_PROGRESS, "alice", "video")).jobs())
        .containsExactly(aliceVideoRunning);
    assertThat(store.list(query(JobStatus.PENDING, "bob", null)).jobs())
        .containsExactly(bobPdfPending);
    JobPage none = store.list(query(JobStatus.COMPLETED, null, null));
    assertThat(none.jobs()).isEmpty();
    assertThat(none.total()).isZero();
    assertThat(store.list(query(JobStatus.IN_PROGRESS, null, null)).total()).isEqualTo(3);
  }

  @Test
  void listSearchesIdsForAPartIgnoringCaseAndTakesUnderscoresLiterally() {
    Job render = created("Render_2026-a", "alice", "video");
    Job renderB = created("render-2026-b", "alice", "video");
    Job pdf = created("pdf.split:7", "bob", "pdf");
    appendAll(render, renderB, pdf);

    assertThat(store.list(search("RENDER")).jobs()).containsExactly(renderB, render);
    assertThat(store.list(search("render_")).jobs()).containsExactly(render);
    assertThat(store.list(search("split:7")).jobs()).containsExactly(pdf);
    assertThat(store.list(search("%")).total()).isZero();
    assertThat(store.list(search("_")).jobs()).containsExactly(render);
    JobQuery aliceOnly =
        new JobQuery(
            Optional.empty(), Optional.of("alice"), Optional.empty(), Optional.of("2026"), 0, 10);
    assertThat(store.list(aliceOnly).total()).isEqualTo(2);
  }

  private static JobQuery search(String text) {
    return new JobQuery(
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(text), 0, 100);
  }

  @Test
  void listPagesWithOffsetAndLimitAndCountsEveryMatch() {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      jobs.add(created("job-" + i, i % 2 == 0 ? "alice" : "bob", "video"));
    }
    appendAll(jobs.toArray(Job[]::new));
    List<Job> newestFirst = new ArrayList<>(jobs);
    Collections.reverse(newestFirst);

    JobPage firstPage = store.list(page(0, 3));
    JobPage secondPage = store.list(page(3, 3));
    JobPage lastPage = store.list(page(6, 3));
    JobPage beyond = store.list(page(10, 3));

    assertThat(firstPage.jobs()).containsExactlyElementsOf(newestFirst.subList(0, 3));
    assertThat(secondPage.jobs()).containsExactlyElementsOf(newestFirst.subList(3, 6));
    assertThat(lastPage.jobs()).containsExactlyElementsOf(newestFirst.subList(6, 7));
    assertThat(beyond.jobs()).isEmpty();
    assertThat(List.of(firstPage, secondPage, lastPage, beyond))
        .allSatisfy(p -> assertThat(p.total()).isEqualTo(7));

    JobPage bobs =
        store.list(new JobQuery(Optional.empty(), Optional.of("bob"), Optional.empty(), 1, 1));
    assertThat(bobs.jobs()).containsExactly(jobs.get(3));
    assertThat(bobs.total()).isEqualTo(3);
  }

  @Test
  void listOfAnEmptyStoreIsEmpty() {
    JobPage page = store.list(JobQuery.all());

    assertThat(page.jobs()).isEmpty();
    assertThat(page.total()).isZero();
  }

  @Test
  void countByStatusCountsEachJobOnceInItsLatestStatus() {
    Job pending = created("job-1");
    Job queued = created("job-2", "alice", "video", JobStatus.QUEUED, Map.of());
    Job running = created("job-3");
    Job running2 = next(running, update().progress(50));
    Job done = created("job-4");
    Job done2 = next(done, update().status(JobStatus.IN_PROGRESS));
    Job done3 = next(done2, update().status(JobStatus.COMPLETED));
    Job cancelled = created("job-5");
    Job cancelled2 = next(cancelled, update().status(JobStatus.CANCELLED));
    appendAll(pending, queued, running, running2, done, done2, done3, cancelled, cancelled2);

    Map<JobStatus, Long> expected = new EnumMap<>(JobStatus.class);
    expected.put(JobStatus.PENDING, 1L);
    expected.put(JobStatus.QUEUED, 1L);
    expected.put(JobStatus.IN_PROGRESS, 1L);
    expected.put(JobStatus.COMPLETED, 1L);
    expected.put(JobStatus.CANCELLED, 1L);
    assertThat(withoutZeros(store.countByStatus())).isEqualTo(expected);
  }

  @Test
  void countByStatusOfAnEmptyStoreHasNoJobs() {
    assertThat(withoutZeros(store.countByStatus())).isEmpty();
  }

  // ------------------------------------------------------------------ delete and retention

  @Test
  void deleteRemovesTheJobAndItsHistoryAndAnswersWhetherItExisted() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10));
    Job s3 = next(s2, update().progress(20));
    Job other = created("job-2");
    await(store.append(first(s1)));
    await(store.append(new StoredEvent(s2, true, Optional.of("ev-1"))));
    await(store.append(new StoredEvent(s3, false, Optional.of("ev-2"))));
    appendAll(other);

    assertThat(await(store.delete("job-1"))).isTrue();
    assertThat(await(store.delete("job-1"))).isFalse();

    assertThat(store.find("job-1")).isEmpty();
    assertThat(store.history("job-1", 0, 100)).isEmpty();
    assertThat(store.findByEventId("job-1", "ev-1")).isEmpty();
    assertThat(store.findByEventId("job-1", "ev-2")).isEmpty();
    assertThat(store.list(JobQuery.all()).jobs()).containsExactly(other);
    assertThat(withoutZeros(store.countByStatus()))
        .containsExactly(Map.entry(JobStatus.PENDING, 1L));
    assertThat(await(store.delete("no-such-job"))).isFalse();
  }

  @Test
  void aDeletedJobIdCanBeCreatedAgainWithAFreshHistory() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().status(JobStatus.IN_PROGRESS).stage("old"));
    appendAll(s1, s2);
    await(store.delete("job-1"));

    Job again = created("job-1", "carol", "pdf");
    appendAll(again);

    assertThat(store.find("job-1")).contains(again);
    assertThat(store.history("job-1", 0, 100)).containsExactly(again);
  }

  @Test
  void deleteFinishedBeforeRemovesOnlyJobsFinishedBeforeTheCutoff() {
    Job longDone = created("long-done");
    Job longFailed = created("long-failed");
    Job atCutoff = created("at-cutoff");
    Job oldButRunning = created("old-running");
    Job recentDone = created("recent-done");
    Job longDoneStarted = next(longDone, update().status(JobStatus.IN_PROGRESS));
    Job recentDoneStarted = next(recentDone, update().status(JobStatus.IN_PROGRESS));
    Job longDoneFinished = finish(longDoneStarted, JobStatus.COMPLETED, tick());
    Job longFailedFinished = finish(longFailed, JobStatus.FAILED, tick());
    Instant cutoff = tick();
    Job atCutoffFinished = finish(atCutoff, JobStatus.CANCELLED, cutoff);
    Job oldButRunning2 = next(oldButRunning, update().progress(10));
    Job recentDoneFinished = finish(recentDoneStarted, JobStatus.COMPLETED, tick());
    for (List<Job> snapshots :
        List.of(
            List.of(longDone, longDoneStarted, longDoneFinished),
            List.of(longFailed, longFailedFinished),
            List.of(atCutoff, atCutoffFinished),
            List.of(oldButRunning, oldButRunning2),
            List.of(recentDone, recentDoneStarted, recentDoneFinished))) {
      appendAll(snapshots.subList(0, snapshots.size() - 1).toArray(Job[]::new));
      Job previous = snapshots.get(snapshots.size() - 2);
      Job last = snapshots.getLast();
      await(store.append(event(previous, last, Optional.of("finish-" + last.id()))));
    }

    List<String> removed = store.deleteFinishedBefore(cutoff);

    assertThat(removed).containsExactlyInAnyOrder("long-done", "long-failed");
    assertThat(store.find("long-done")).isEmpty();
    assertThat(store.find("long-failed")).isEmpty();
    assertThat(store.history("long-done", 0, 100)).isEmpty();
    assertThat(store.history("long-failed", 0, 100)).isEmpty();
    assertThat(store.findByEventId("long-done", "finish-long-done")).isEmpty();
    assertThat(store.find("at-cutoff")).contains(atCutoffFinished);
    assertThat(store.find("old-running")).contains(oldButRunning2);
    assertThat(store.find("recent-done")).contains(recentDoneFinished);
    assertThat(store.history("recent-done", 0, 100))
        .containsExactly(recentDone, recentDoneStarted, recentDoneFinished);
    assertThat(store.findByEventId("recent-done", "finish-recent-done"))
        .contains(recentDoneFinished);
    assertThat(store.list(JobQuery.all()).total()).isEqualTo(3);
    assertThat(store.deleteFinishedBefore(cutoff)).isEmpty();
  }

  // ------------------------------------------------------------------ ordering and threads

  @Test
  void appendFuturesCompleteInCallOrder() {
    int jobs = 5;
    int eventsPerJob = 200;
    List<Job> latest = new ArrayList<>();
    for (int j = 0; j < jobs; j++) {
      latest.add(created("job-" + j));
    }
    List<String> called = new ArrayList<>();
    List<String> completed = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int j = 0; j < jobs; j++) {
      futures.add(appendRecording(first(latest.get(j)), called, completed));
    }
    for (int i = 1; i < eventsPerJob; i++) {
      for (int j = 0; j < jobs; j++) {
        Job previous = latest.get(j);
        Job job = next(previous, update().progress(Math.min(100, i / 2.0)));
        latest.set(j, job);
        StoredEvent event =
            new StoredEvent(job, JobRules.isTransition(previous, job), Optional.empty());
        futures.add(appendRecording(event, called, completed));
      }
    }

    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .orTimeout(30, TimeUnit.SECONDS)
        .join();

    assertThat(completed).containsExactlyElementsOf(called);
    for (Job job : latest) {
      assertThat(store.find(job.id())).contains(job);
    }
  }

  @Test
  void appendsFromSeveralThreadsToDifferentJobsAllLand() throws Exception {
    int threads = 4;
    int jobsPerThread = 5;
    int eventsPerJob = 50;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<Job>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  List<Job> finals = new ArrayList<>();
                  List<CompletableFuture<Void>> futures = new ArrayList<>();
                  for (int j = 0; j < jobsPerThread; j++) {
                    Job job = created("t" + thread + "-job-" + j);
                    futures.add(store.append(first(job)));
                    for (int i = 1; i < eventsPerJob; i++) {
                      Job previous = job;
                      job = next(previous, update().progress(i));
                      futures.add(
                          store.append(
                              new StoredEvent(
                                  job,
                                  JobRules.isTransition(previous, job),
                                  Optional.of("ev-" + i))));
                    }
                    finals.add(job);
                  }
                  CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
                  return finals;
                }));
      }
      List<Job> finals = new ArrayList<>();
      for (Future<List<Job>> result : results) {
        finals.addAll(result.get(60, TimeUnit.SECONDS));
      }

      assertThat(finals).hasSize(threads * jobsPerThread);
      for (Job job : finals) {
        assertThat(store.find(job.id())).contains(job);
        assertThat(store.findByEventId(job.id(), "ev-" + (eventsPerJob - 1))).contains(job);
        assertThat(store.history(job.id(), 0, 1000))
            .extracting(Job::seq)
            .containsExactly(1L, 2L, (long) eventsPerJob);
      }
      assertThat(store.list(JobQuery.all()).total()).isEqualTo(threads * jobsPerThread);
    } finally {
      pool.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ close and reopen

  @Test
  void closeFlushesPendingAppends() {
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    Job job = created("job-1");
    futures.add(store.append(first(job)));
    for (int i = 1; i <= 100; i++) {
      Job previous = job;
      job = next(previous, update().progress(i));
      futures.add(
          store.append(
              new StoredEvent(job, JobRules.isTransition(previous, job), Optional.empty())));
    }

    store.close();

    assertThat(futures).allSatisfy(f -> assertThat(f).isCompletedWithValue(null));
    Job last = job;
    reopen(store)
        .ifPresent(
            reopened -> {
              track(reopened);
              assertThat(reopened.find("job-1")).contains(last);
            });
  }

  @Test
  void everyCallAfterCloseFails() {
    Job job = created("job-1");
    appendAll(job);

    store.close();

    assertFailsAsUnavailable(() -> store.append(first(created("job-2"))));
    assertFailsAsUnavailable(() -> store.delete("job-1"));
    assertFailsAsUnavailable(() -> completed(() -> store.find("job-1")));
    assertFailsAsUnavailable(() -> completed(() -> store.history("job-1", 0, 10)));
    assertFailsAsUnavailable(() -> completed(() -> store.findByEventId("job-1", "ev")));
    assertFailsAsUnavailable(() -> completed(() -> store.list(JobQuery.all())));
    assertFailsAsUnavailable(() -> completed(() -> store.countByStatus()));
    assertFailsAsUnavailable(() -> completed(() -> store.deleteFinishedBefore(T0)));
  }

  @Test
  void closeTwiceIsHarmless() {
    store.close();
    store.close();
  }

  @Test
  void reopenRestoresEveryJobAndItsHistoryWithEveryFieldEqual() {
    Job rich = created("rich", "alice", "caption", richMetadata());
    Job rich2 = next(rich, update().status(JobStatus.QUEUED).message("waiting for a worker"));
    Job rich3 =
        next(rich2, update().status(JobStatus.IN_PROGRESS).stage("transcribe").progress(12.5));
    Job rich4 = next(rich3, update().progress(40).etaSeconds(31.5).eventId("tick-40"));
    Job rich5 = next(rich4, update().progress(55).metadata(Map.of("chunk", 5)));
    Job rich6 = next(rich5, update().status(JobStatus.COMPLETED).result(richResult()));
    Job running = created("running", "bob", "pdf");
    Job running2 = next(running, update().progress(20).stage("split"));
    Job running3 = next(running2, update().progress(30));
    Job failed = created("failed", "bob", "video");
    Job failed2 = next(failed, update().status(JobStatus.FAILED).error("out of memory"));
    await(store.append(first(rich)));
    await(store.append(event(rich, rich2, Optional.empty())));
    await(store.append(event(rich2, rich3, Optional.of("start"))));
    await(store.append(event(rich3, rich4, Optional.of("tick-40"))));
    await(store.append(event(rich4, rich5, Optional.empty())));
    await(store.append(event(rich5, rich6, Optional.of("done"))));
    appendAll(running, running2, running3, failed, failed2);
    List<Job> richHistory = store.history("rich", 0, 100);
    JobPage listed = store.list(JobQuery.all());
    Map<JobStatus, Long> counts = withoutZeros(store.countByStatus());

    store.close();
    Optional<JobStore> maybeReopened = reopen(store);
    assumeThat(maybeReopened).as("store keeps jobs across a restart").isPresent();
    JobStore reopened = track(maybeReopened.get());

    assertThat(reopened.find("rich")).contains(rich6);
    assertThat(reopened.find("running")).contains(running3);
    assertThat(reopened.find("failed")).contains(failed2);
    assertThat(reopened.history("rich", 0, 100))
        .isEqualTo(richHistory)
        .containsExactly(rich, rich2, rich3, rich5, rich6);
    assertThat(reopened.history("running", 0, 100)).containsExactly(running, running2, running3);
    assertThat(reopened.history("failed", 0, 100)).containsExactly(failed, failed2);
    assertThat(reopened.findByEventId("rich", "tick-40")).contains(rich4);
    assertThat(reopened.findByEventId("rich", "start")).contains(rich3);
    assertThat(reopened.findByEventId("rich", "done")).contains(rich6);
    assertThat(reopened.list(JobQuery.all())).isEqualTo(listed);
    assertThat(withoutZeros(reopened.countByStatus())).isEqualTo(counts);

    Job running4 = next(running3, update().status(JobStatus.CANCELLED));
    await(reopened.append(event(running3, running4, Optional.empty())));
    assertThat(reopened.find("running")).contains(running4);
    assertThat(reopened.find("rich")).contains(rich6);
    CompletableFuture<Void> duplicate = reopened.append(first(created("rich")));
    assertThat(failureOf(duplicate))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("job_exists"));
  }

  // ------------------------------------------------------------------ fixtures

  /** Registers a store to be closed after the test. */
  protected final JobStore track(JobStore opened) {
    this.opened.add(opened);
    return opened;
  }

  /** A strictly increasing clock with millisecond steps: every snapshot gets its own instant. */
  protected final synchronized Instant tick() {
    clockMillis += 1 + (clockMillis % 7);
    return T0.plusMillis(clockMillis);
  }

  protected final Job created(String id) {
    return created(id, "alice", "video");
  }

  protected final Job created(String id, String owner, String type) {
    return created(id, owner, type, JobStatus.PENDING, Map.of());
  }

  protected final Job created(String id, String owner, String type, Map<String, Object> metadata) {
    return created(id, owner, type, JobStatus.PENDING, metadata);
  }

  /** The seq-1 snapshot a hub would append for this request, created now. */
  protected final Job created(
      String id, String owner, String type, JobStatus status, Map<String, Object> metadata) {
    NewJob request =
        NewJob.builder()
            .owner(owner)
            .type(type)
            .status(status)
            // A mutable copy, as a JSON parser would hand it over.
            .metadata(new HashMap<>(metadata))
            .build();
    return JobRules.created(request, id, tick());
  }

  protected static JobUpdate.Builder update() {
    return JobUpdate.builder();
  }

  protected final Job next(Job previous, JobUpdate.Builder update) {
    return JobRules.apply(previous, update.build(), tick());
  }

  protected static StoredEvent first(Job created) {
    return new StoredEvent(created, true, Optional.empty());
  }

  protected static StoredEvent event(Job previous, Job next, Optional<String> eventId) {
    return new StoredEvent(next, JobRules.isTransition(previous, next), eventId);
  }

  /** An event built on {@code previous} before {@code previous} was known to be durable. */
  protected static StoredEvent pipelined(Job previous, Job next, Optional<String> eventId) {
    return new StoredEvent(
        next, JobRules.isTransition(previous, next), eventId, Optional.of(previous));
  }

  /**
   * Appends consecutive snapshots and waits for each; a snapshot with seq 1 starts a new job, any
   * other follows the previous snapshot of the same job in the arguments.
   */
  protected final void appendAll(Job... jobs) {
    Map<String, Job> previous = new HashMap<>();
    for (Job job : jobs) {
      Job before = previous.get(job.id());
      StoredEvent event =
          before == null || job.seq() == 1
              ? new StoredEvent(job, true, Optional.empty())
              : event(before, job, Optional.empty());
      await(store.append(event));
      previous.put(job.id(), job);
    }
  }

  private static Job finish(Job created, JobStatus status, Instant at) {
    JobUpdate.Builder update = update().status(status);
    if (status == JobStatus.FAILED) {
      update.error("boom");
    }
    return JobRules.apply(created, update.build(), at);
  }

  private CompletableFuture<Void> appendRecording(
      StoredEvent event, List<String> called, List<String> completed) {
    String key = event.job().id() + "#" + event.job().seq();
    called.add(key);
    // Wait for the recording step, not the append: it may run after other dependents.
    return store.append(event).thenRun(() -> completed.add(key));
  }

  private static JobQuery query(JobStatus status, String owner, String type) {
    return new JobQuery(
        Optional.ofNullable(status), Optional.ofNullable(owner), Optional.ofNullable(type), 0, 100);
  }

  private static JobQuery page(int offset, int limit) {
    return new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), offset, limit);
  }

  private static Map<JobStatus, Long> withoutZeros(Map<JobStatus, Long> counts) {
    Map<JobStatus, Long> copy = new EnumMap<>(JobStatus.class);
    counts.forEach(
        (status, count) -> {
          if (count != 0) {
            copy.put(status, count);
          }
        });
    return copy;
  }

  /**
   * Metadata with every JSON shape: nested objects and arrays, strings with non-ASCII text, ints,
   * longs beyond 32 bits, fractions, booleans and a {@code null} inside a container.
   */
  protected static Map<String, Object> richMetadata() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("codec", "h264");
    nested.put("bitrate", 4500);
    nested.put("ratio", 1.7777777777777777);
    nested.put("missing", null);
    nested.put("tags", List.of("hd", "stereo"));
    return Map.of(
        "source",
        "s3://bucket/in/movie-\u00e9\u4e2d.mp4",
        "chunks",
        10,
        "bytes",
        5_000_000_123L,
        "fps",
        29.97,
        "negative",
        -3,
        "hdr",
        false,
        "video",
        nested,
        "frames",
        Arrays.asList(1, 2.5, "three", true, null, List.of(), Map.of("k", "v")),
        "empty",
        Map.of(),
        "quote",
        "she said \"hi\"\n\ttab \\ slash");
  }

  protected static Object richResult() {
    return Map.of(
        "captions",
        "s3://bucket/out/movie.vtt",
        "languages",
        List.of("en", "fr"),
        "confidence",
        0.93,
        "words",
        1234,
        "reviewed",
        true);
  }

  protected static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("future failed", e.getCause());
    } catch (Exception e) {
      throw new AssertionError("future did not complete", e);
    }
  }

  /** The exception that {@code future} completed with, or null if it completed normally. */
  protected static Throwable outcome(CompletableFuture<?> future) {
    try {
      future.get(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError("future did not complete", e);
    }
  }

  /** The future fails with {@code stale_seq}: another writer changed the job first. */
  protected static void assertStale(CompletableFuture<?> future) {
    assertThat(failureOf(future))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(HubException.Code.STALE_SEQ);
              assertThat(e.code()).isEqualTo("stale_seq");
              assertThat(e.kind()).isEqualTo(HubException.Kind.CONFLICT);
            });
  }

  /** The exception that {@code future} completed with. */
  protected static Throwable failureOf(CompletableFuture<?> future) {
    try {
      future.get(AWAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError("future did not complete", e);
    }
    throw new AssertionError("expected the future to fail, but it completed normally");
  }

  private static <T> CompletableFuture<T> completed(Supplier<T> call) {
    return CompletableFuture.completedFuture(call.get());
  }

  /** The call throws, or returns a future that fails, with a {@code store_unavailable} error. */
  private static void assertFailsAsUnavailable(Supplier<? extends CompletableFuture<?>> call) {
    Throwable failure;
    try {
      failure = failureOf(call.get());
    } catch (CompletionException e) {
      failure = e.getCause();
    } catch (RuntimeException e) {
      failure = e;
    }
    assertThat(failure)
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.UNAVAILABLE);
              assertThat(e.code()).isEqualTo("store_unavailable");
            });
  }
}
