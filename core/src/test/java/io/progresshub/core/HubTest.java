package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.RecordingSubscriber.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class HubTest {

  private static final Instant T0 = Instant.parse("2025-01-01T12:00:00Z");
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private final MutableClock clock = new MutableClock(T0);
  private final List<Hub> hubs = new ArrayList<>();
  private final Hub hub = newHub(Hub.builder());

  @AfterEach
  void closeHubs() {
    hubs.forEach(Hub::close);
  }

  private Hub newHub(Hub.Builder builder) {
    // The sweep is off so retention runs only when a test asks for it.
    Hub built =
        builder
            .clock(clock)
            .monotonicClock(clock::nanoTime)
            .retentionSweepInterval(Duration.ZERO)
            .build();
    hubs.add(built);
    return built;
  }

  // ---------------------------------------------------------------- create

  @Test
  void createGeneratesAnIdWhenNoneIsGiven() {
    Job job = hub.create(NewJob.builder().owner("alice").build());

    assertThat(JobIds.isValid(job.id())).isTrue();
    assertThat(job.seq()).isEqualTo(1);
    assertThat(job.status()).isEqualTo(JobStatus.PENDING);
    assertThat(job.owner()).isEqualTo("alice");
    assertThat(hub.find(job.id())).contains(job);
    assertThat(hub.create(NewJob.builder().build()).id()).isNotEqualTo(job.id());
  }

  @Test
  void createKeepsTheGivenIdAndStatus() {
    Job job = hub.create(NewJob.builder().id("job-42").status(JobStatus.QUEUED).build());

    assertThat(job.id()).isEqualTo("job-42");
    assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(hub.get("job-42")).isEqualTo(job);
  }

  @Test
  void createWithATakenIdFailsWithJobExists() {
    create("job-1");

    assertHubError(() -> create("job-1"), HubException.Kind.CONFLICT, "job_exists");
    assertThat(hub.get("job-1").seq()).isEqualTo(1);
  }

  @Test
  void createWithTheIdOfAFinishedJobFailsWithJobExists() {
    create("job-1");
    hub.cancel("job-1");

    assertHubError(() -> create("job-1"), HubException.Kind.CONFLICT, "job_exists");
    assertThat(hub.get("job-1").status()).isEqualTo(JobStatus.CANCELLED);
  }

  // ---------------------------------------------------------------- publish

  @Test
  void publishReturnsTheNewState() {
    create("job-1");

    Job job = hub.publish("job-1", progress(40).stage("transcribe").message("chunk 4/10").build());

    assertThat(job.seq()).isEqualTo(2);
    assertThat(job.status()).isEqualTo(JobStatus.IN_PROGRESS);
    assertThat(job.progress()).isEqualTo(40);
    assertThat(job.stage()).contains("transcribe");
    assertThat(job.message()).contains("chunk 4/10");
    assertThat(hub.get("job-1")).isEqualTo(job);
  }

  @Test
  void publishToAnUnknownJobFailsWithJobNotFound() {
    assertHubError(
        () -> hub.publish("job-nope", progress(1).build()),
        HubException.Kind.NOT_FOUND,
        "job_not_found");
  }

  @Test
  void publishToAnInvalidJobIdFailsWithInvalidJobId() {
    assertHubError(
        () -> hub.publish("bad id", progress(1).build()),
        HubException.Kind.INVALID,
        "invalid_job_id");
  }

  @Test
  void refusedEventLeavesNoGapInSeq() {
    create("job-1");
    hub.publish("job-1", progress(10).build());

    assertHubError(
        () -> hub.publish("job-1", status(JobStatus.QUEUED).build()),
        HubException.Kind.CONFLICT,
        "invalid_transition");
    assertHubError(
        () -> hub.publish("job-1", JobUpdate.builder().result("early").build()),
        HubException.Kind.INVALID,
        "invalid_request");

    assertThat(hub.get("job-1").seq()).isEqualTo(2);
    assertThat(hub.publish("job-1", progress(20).build()).seq()).isEqualTo(3);
  }

  @Test
  void retriedEventIdReturnsTheOriginalResultAndIsNotBroadcastAgain() {
    create("job-1");
    RecordingSubscriber subscriber = subscribe("job-1");

    Job original = hub.publish("job-1", progress(10).eventId("evt-1").build());
    Job retried = hub.publish("job-1", progress(99).eventId("evt-1").build());
    Job next = hub.publish("job-1", progress(20).build());

    assertThat(retried).isEqualTo(original);
    assertThat(next.seq()).isEqualTo(original.seq() + 1);
    awaitSeq(subscriber, next.seq());
    assertThat(subscriber.seqs()).containsExactly(1L, 2L, 3L);
    assertThat(subscriber.deliveries().get(1).job()).isEqualTo(original);
  }

  @Test
  void retriedEventIdAfterTheJobFinishedReturnsTheOriginalNotAConflict() {
    create("job-1");
    Job progressed = hub.publish("job-1", progress(50).eventId("evt-1").build());
    Job completed = hub.publish("job-1", status(JobStatus.COMPLETED).eventId("evt-2").build());

    assertThat(hub.publish("job-1", progress(50).eventId("evt-1").build())).isEqualTo(progressed);
    assertThat(hub.publish("job-1", status(JobStatus.COMPLETED).eventId("evt-2").build()))
        .isEqualTo(completed);
    assertHubError(
        () -> hub.publish("job-1", progress(60).eventId("evt-3").build()),
        HubException.Kind.CONFLICT,
        "job_finished");
  }

  @Test
  void retriedEventIdAfterACancelReturnsTheOriginal() {
    create("job-1");
    Job progressed = hub.publish("job-1", progress(50).eventId("evt-1").build());
    hub.cancel("job-1");

    assertThat(hub.publish("job-1", progress(50).eventId("evt-1").build())).isEqualTo(progressed);
  }

  @Test
  void retriedEventIdIsRecognisedLongAfterTheOriginal() {
    create("job-1");
    Job original = hub.publish("job-1", progress(0).eventId("evt-0").build());
    for (int i = 1; i <= 1_000; i++) {
      hub.publish("job-1", progress(i / 10.0).eventId("evt-" + i).build());
    }

    assertThat(hub.publish("job-1", progress(0).eventId("evt-0").build())).isEqualTo(original);
    assertThat(hub.get("job-1").seq()).isEqualTo(1_002);
  }

  @Test
  void concurrentPublishersToOneJobGetConsecutiveSeqs() throws Exception {
    create("job-1");
    RecordingSubscriber subscriber = subscribe("job-1");
    int threads = 8;
    int perThread = 250;
    ConcurrentLinkedQueue<Long> seqs = new ConcurrentLinkedQueue<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Callable<Void>> publishers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      publishers.add(
          () -> {
            go.await();
            for (int i = 0; i < perThread; i++) {
              seqs.add(hub.publish("job-1", progress((thread * 7 + i) % 100).build()).seq());
            }
            return null;
          });
    }

    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Void>> done = new ArrayList<>();
      publishers.forEach(publisher -> done.add(pool.submit(publisher)));
      go.countDown();
      for (Future<Void> future : done) {
        future.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    long last = 1 + threads * perThread;
    assertThat(seqs).doesNotHaveDuplicates();
    assertThat(seqs.stream().sorted().toList())
        .isEqualTo(LongStream.rangeClosed(2, last).boxed().toList());
    assertThat(hub.get("job-1").seq()).isEqualTo(last);
    awaitSeq(subscriber, last);
    assertThat(subscriber.seqs()).isEqualTo(LongStream.rangeClosed(1, last).boxed().toList());
    assertThat(subscriber.violations()).isEmpty();
  }

  @Test
  void cancelMakesTheWorkersNextPublishFailWithJobCancelled() {
    create("job-1");
    hub.publish("job-1", progress(30).build());
    RecordingSubscriber subscriber = subscribe("job-1");

    Job cancelled = hub.cancel("job-1");

    assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
    awaitSeq(subscriber, cancelled.seq());
    assertThat(subscriber.last()).contains(cancelled);
    assertHubError(
        () -> hub.publish("job-1", progress(40).build()),
        HubException.Kind.CONFLICT,
        "job_cancelled");
    assertThat(hub.get("job-1")).isEqualTo(cancelled);
  }

  @Test
  void publishAfterCompletionFailsWithJobFinished() {
    create("job-1");
    hub.publish("job-1", status(JobStatus.IN_PROGRESS).build());
    hub.publish("job-1", status(JobStatus.COMPLETED).build());

    assertHubError(
        () -> hub.publish("job-1", progress(10).build()),
        HubException.Kind.CONFLICT,
        "job_finished");
    assertHubError(() -> hub.cancel("job-1"), HubException.Kind.CONFLICT, "job_finished");
  }

  @Test
  void fiftyPublishesAddingMetadataKeysAreRefusedAtTheKeyLimitAndTheJobStaysUsable() {
    create("job-1");
    int accepted = 0;
    List<HubException> refusals = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Map<String, Object> keys = new HashMap<>();
      for (int k = 0; k < 10; k++) {
        keys.put("key-" + i + "-" + k, i * 10 + k);
      }
      try {
        hub.publish("job-1", JobUpdate.builder().metadata(keys).build());
        accepted++;
      } catch (HubException e) {
        refusals.add(e);
      }
    }

    // 25 x 10 keys fit under the default of 256; the 26th publish would make it 260.
    assertThat(accepted).isEqualTo(25);
    assertThat(refusals)
        .hasSize(25)
        .allSatisfy(
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.LIMITED);
              assertThat(e.code()).isEqualTo("payload_too_large");
              assertThat(e.getMessage()).contains("job-1").contains("260 metadata keys");
            });
    assertThat(hub.get("job-1").seq()).isEqualTo(26);
    assertThat(hub.get("job-1").metadata()).hasSize(250);
    assertThat(hub.history("job-1", 0, 100))
        .allSatisfy(job -> assertThat(job.metadata().size()).isLessThanOrEqualTo(256));

    // Still usable: ticks, dropping keys to make room, then finishing.
    hub.publish("job-1", progress(50).build());
    Map<String, Object> dropTen = new HashMap<>();
    for (int k = 0; k < 10; k++) {
      dropTen.put("key-0-" + k, null);
    }
    hub.publish("job-1", JobUpdate.builder().metadata(dropTen).build());
    hub.publish("job-1", JobUpdate.builder().metadata(Map.of("a", 1, "b", 2)).build());
    Job done = hub.publish("job-1", status(JobStatus.COMPLETED).result("ok").build());
    assertThat(done.metadata()).hasSize(242);
  }

  @Test
  void publishesThatWouldGrowTheStatePastTheByteLimitAreRefusedAndTheJobStaysUsable() {
    create("job-1");
    hub.lifecycle("job-1").markStarted();
    String fourKiB = "x".repeat(4096);
    int accepted = 0;
    for (int i = 0; i < 50; i++) {
      try {
        hub.publish("job-1", JobUpdate.builder().metadata(Map.of("blob-" + i, fourKiB)).build());
        accepted++;
      } catch (HubException e) {
        assertThat(e.code()).isEqualTo("payload_too_large");
        assertThat(e.getMessage()).contains("65536 bytes");
      }
    }

    // About 4 KiB per key: 15 fit in the default 64 KiB, the 16th would not.
    assertThat(accepted).isEqualTo(15);
    Job stored = hub.get("job-1");
    assertThat(stored.metadata()).hasSize(15);
    // A result that does not fit is refused too; a small one completes the job.
    assertThatThrownBy(
            () ->
                hub.publish(
                    "job-1",
                    status(JobStatus.COMPLETED).result(Map.of("captions", fourKiB)).build()))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("payload_too_large"));
    hub.publish("job-1", JobUpdate.builder().message("still here").build());
    assertThat(hub.publish("job-1", status(JobStatus.COMPLETED).result("s3://out").build()).seq())
        .isEqualTo(stored.seq() + 2);
  }

  @Test
  void createWithMoreMetadataThanTheLimitsIsRefused() {
    Map<String, Object> tooMany = new HashMap<>();
    for (int k = 0; k < 257; k++) {
      tooMany.put("key-" + k, k);
    }

    assertHubError(
        () -> hub.create(NewJob.builder().id("job-1").metadata(tooMany).build()),
        HubException.Kind.LIMITED,
        "payload_too_large");
    assertHubError(
        () ->
            hub.create(
                NewJob.builder().id("job-2").metadata(Map.of("blob", "x".repeat(70_000))).build()),
        HubException.Kind.LIMITED,
        "payload_too_large");
    assertThat(hub.find("job-1")).isEmpty();
    assertThat(hub.find("job-2")).isEmpty();
  }

  // ---------------------------------------------------------------- subscribe

  @Test
  void subscribeGetsOnSubscribedThenTheCurrentStateThenLiveStatesInSeqOrder() {
    create("job-1");
    Job current = hub.publish("job-1", progress(10).build());
    RecordingSubscriber subscriber = subscribe("job-1");

    hub.publish("job-1", JobUpdate.builder().stage("encode").build());
    hub.publish("job-1", progress(60).build());
    Job completed = hub.publish("job-1", status(JobStatus.COMPLETED).build());

    awaitSeq(subscriber, completed.seq());
    assertThat(subscriber.subscribedTo()).contains(current);
    assertThat(subscriber.recovered()).isFalse();
    List<Delivery> deliveries = subscriber.deliveries();
    assertThat(deliveries).extracting(Delivery::seq).containsExactly(2L, 3L, 4L, 5L);
    assertThat(deliveries.getFirst()).isEqualTo(new Delivery(current, true, true));
    assertThat(deliveries.subList(1, 4)).extracting(Delivery::replay).containsOnly(false);
    assertThat(deliveries.subList(1, 4))
        .extracting(Delivery::transition)
        .containsExactly(true, false, true);
    assertThat(deliveries.getLast().job()).isEqualTo(completed);
    assertThat(subscriber.violations()).isEmpty();
  }

  @Test
  void subscribeWithoutSinceIsNotRecovered() {
    create("job-1");

    RecordingSubscriber subscriber = subscribe("job-1");

    eventually().until(() -> subscriber.subscribedTo().isPresent());
    assertThat(subscriber.recovered()).isFalse();
  }

  @Test
  void subscribeWithSinceReplaysEveryMissedTransitionAndTheLatestTick() {
    create("job-1"); // 1
    hub.publish("job-1", status(JobStatus.IN_PROGRESS).build()); // 2: the client saw this one
    hub.publish("job-1", progress(10).build()); // 3
    hub.publish("job-1", progress(20).build()); // 4
    Job staged = hub.publish("job-1", JobUpdate.builder().stage("encode").build()); // 5
    hub.publish("job-1", progress(60).build()); // 6
    Job latest = hub.publish("job-1", progress(70).build()); // 7

    RecordingSubscriber subscriber = subscribe("job-1", 2);
    Job completed = hub.publish("job-1", status(JobStatus.COMPLETED).build()); // 8

    awaitSeq(subscriber, completed.seq());
    assertThat(subscriber.recovered()).isTrue();
    assertThat(subscriber.subscribedTo()).contains(latest);
    assertThat(subscriber.deliveries())
        .containsExactly(
            new Delivery(staged, true, true),
            new Delivery(latest, true, true),
            new Delivery(completed, false, true));
    assertThat(subscriber.violations()).isEmpty();
  }

  @Test
  void subscribeWithSinceZeroReplaysTheWholeHistory() {
    create("job-1");
    hub.publish("job-1", status(JobStatus.IN_PROGRESS).build());
    hub.publish("job-1", progress(10).build());
    hub.publish("job-1", progress(20).build());

    RecordingSubscriber subscriber = subscribe("job-1", 0);

    awaitSeq(subscriber, 4);
    assertThat(subscriber.recovered()).isTrue();
    assertThat(subscriber.seqs()).containsExactly(1L, 2L, 4L);
  }

  @Test
  void subscribeWithSinceAtTheCurrentSeqIsSubscribedAndSentNothingItHasAlready() {
    create("job-1");
    Job current = hub.publish("job-1", progress(10).build());

    RecordingSubscriber subscriber = subscribe("job-1", current.seq());

    assertThat(subscriber.recovered()).isTrue();
    assertThat(subscriber.subscribedTo().orElseThrow().seq()).isEqualTo(current.seq());
    assertThat(subscriber.deliveries()).as("the state at its since, which it has").isEmpty();
    Job next = hub.publish("job-1", progress(20).build());
    awaitSeq(subscriber, next.seq());
    assertThat(subscriber.deliveries()).containsExactly(new Delivery(next, false, false));
  }

  @Test
  void subscribeWithSinceBeyondTheReplayLimitIsNotRecoveredAndGetsTheCurrentState() {
    Hub small = newHub(Hub.builder().maxReplay(2));
    small.create(NewJob.builder().id("job-1").build());
    small.publish("job-1", status(JobStatus.IN_PROGRESS).build());
    for (String stage : List.of("a", "b", "c")) {
      small.publish("job-1", JobUpdate.builder().stage(stage).build());
    }
    Job current = small.get("job-1");
    RecordingSubscriber subscriber = new RecordingSubscriber();

    small.subscribe("job-1", OptionalLong.of(1), subscriber);

    awaitSeq(subscriber, current.seq());
    assertThat(subscriber.recovered()).isFalse();
    assertThat(subscriber.deliveries()).containsExactly(new Delivery(current, true, true));
  }

  @Test
  void subscribeWithSinceAheadOfTheJobIsNotRecoveredAndGetsTheCurrentState() {
    create("job-1");
    Job current = hub.publish("job-1", progress(10).build());

    RecordingSubscriber subscriber = subscribe("job-1", 100);

    awaitSeq(subscriber, current.seq());
    assertThat(subscriber.recovered()).isFalse();
    assertThat(subscriber.deliveries()).containsExactly(new Delivery(current, true, true));
  }

  @Test
  void subscribeToAFinishedJobYieldsItsTerminalStateAtOnce() {
    create("job-1");
    hub.publish("job-1", status(JobStatus.IN_PROGRESS).build());
    Job failed = hub.publish("job-1", status(JobStatus.FAILED).error("disk full").build());

    RecordingSubscriber subscriber = subscribe("job-1");

    awaitSeq(subscriber, failed.seq());
    assertThat(subscriber.subscribedTo()).contains(failed);
    assertThat(subscriber.deliveries()).containsExactly(new Delivery(failed, true, true));
  }

  @Test
  void subscribeToAnUnknownJobFailsAndLeavesNoSubscription() {
    RecordingSubscriber subscriber = new RecordingSubscriber();

    assertHubError(
        () -> hub.subscribe("job-nope", OptionalLong.empty(), subscriber),
        HubException.Kind.NOT_FOUND,
        "job_not_found");

    assertThat(hub.stats().subscriptions()).isZero();
    assertThat(hub.stats().watchedJobs()).isZero();
    hub.create(NewJob.builder().id("job-nope").build());
    hub.publish("job-nope", progress(10).build());
    RecordingSubscriber barrier = subscribe("job-nope");
    hub.publish("job-nope", progress(20).build());
    awaitSeq(barrier, 3);
    assertThat(subscriber.subscribedTo()).isEmpty();
    assertThat(subscriber.deliveries()).isEmpty();
  }

  @Test
  void publishDeliversOnlyToSubscribersOfThatJob() {
    create("job-a");
    create("job-b");
    RecordingSubscriber watchesA = subscribe("job-a");
    RecordingSubscriber watchesB = subscribe("job-b");

    hub.publish("job-a", progress(10).build());
    hub.publish("job-a", progress(20).build());
    Job b = hub.publish("job-b", progress(50).build());

    awaitSeq(watchesA, 3);
    awaitSeq(watchesB, b.seq());
    assertThat(watchesA.deliveries()).extracting(d -> d.job().id()).containsOnly("job-a");
    assertThat(watchesB.deliveries()).extracting(d -> d.job().id()).containsOnly("job-b");
    assertThat(watchesB.seqs()).containsExactly(1L, 2L);
  }

  /**
   * Subscribers attach while another thread publishes 2,000 events; each one must see its first
   * state and then every later seq, in order, with nothing twice and nothing missing.
   */
  @RepeatedTest(5)
  void subscriberAttachingDuringAPublishStormSeesEverySeqFromItsFirstOne() throws Exception {
    create("job-race");
    int events = 2_000;
    CountDownLatch publishing = new CountDownLatch(1);
    CountDownLatch attached = new CountDownLatch(1);
    ExecutorService publisher = Executors.newSingleThreadExecutor();
    Future<Job> last =
        publisher.submit(
            () -> {
              Job job = null;
              for (int i = 1; i < events; i++) {
                JobUpdate update =
                    i % 100 == 0
                        ? JobUpdate.builder().stage("stage-" + i).build()
                        : progress(i % 100).build();
                job = hub.publish("job-race", update);
                if (i == 200) {
                  publishing.countDown();
                }
                if (i == events / 2) {
                  // Keep the storm going until every subscriber is in.
                  attached.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                }
              }
              return hub.publish("job-race", status(JobStatus.COMPLETED).build());
            });
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    try {
      assertThat(publishing.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 20; i++) {
        subscribers.add(subscribe("job-race"));
      }
      attached.countDown();
      Job completed = last.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      assertThat(completed.seq()).isEqualTo(events + 1);

      for (RecordingSubscriber subscriber : subscribers) {
        awaitSeq(subscriber, completed.seq());
        List<Long> seqs = subscriber.seqs();
        long first = subscriber.subscribedTo().orElseThrow().seq();
        assertThat(first).as("attached mid-storm").isBetween(201L, events / 2 + 1L);
        assertThat(seqs.getFirst()).isEqualTo(first);
        assertThat(seqs).isEqualTo(LongStream.rangeClosed(first, completed.seq()).boxed().toList());
        assertThat(subscriber.deliveries().subList(1, seqs.size()))
            .extracting(Delivery::replay)
            .containsOnly(false);
        assertThat(subscriber.violations()).isEmpty();
      }
    } finally {
      attached.countDown();
      publisher.shutdownNow();
    }
  }

  @RepeatedTest(5)
  void subscriberResumingDuringAPublishStormMissesNoTransition() throws Exception {
    create("job-race");
    hub.publish("job-race", status(JobStatus.IN_PROGRESS).build());
    int events = 2_000;
    ConcurrentLinkedQueue<Long> transitions = new ConcurrentLinkedQueue<>();
    CountDownLatch publishing = new CountDownLatch(1);
    CountDownLatch attached = new CountDownLatch(1);
    ExecutorService publisher = Executors.newSingleThreadExecutor();
    Future<Job> last =
        publisher.submit(
            () -> {
              for (int i = 1; i < events; i++) {
                if (i % 50 == 0) {
                  transitions.add(
                      hub.publish("job-race", JobUpdate.builder().stage("s" + i).build()).seq());
                } else {
                  hub.publish("job-race", progress(i % 100).build());
                }
                if (i == 200) {
                  publishing.countDown();
                }
                if (i == events / 2) {
                  attached.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                }
              }
              Job done = hub.publish("job-race", status(JobStatus.COMPLETED).build());
              transitions.add(done.seq());
              return done;
            });
    long since = 100;
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    try {
      assertThat(publishing.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 20; i++) {
        subscribers.add(subscribe("job-race", since));
      }
      attached.countDown();
      Job completed = last.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);

      for (RecordingSubscriber subscriber : subscribers) {
        awaitSeq(subscriber, completed.seq());
        List<Long> seqs = subscriber.seqs();
        assertThat(subscriber.recovered()).isTrue();
        assertThat(subscriber.subscribedTo().orElseThrow().seq())
            .as("attached mid-storm")
            .isBetween(202L, events / 2 + 2L);
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        assertThat(seqs.getFirst()).isGreaterThan(since);
        assertThat(seqs).containsAll(transitions.stream().filter(seq -> seq > since).toList());
        // Replay (history and the state at subscription) comes first, then only live states.
        List<Delivery> deliveries = subscriber.deliveries();
        int replayed = (int) deliveries.stream().takeWhile(Delivery::replay).count();
        assertThat(deliveries.subList(replayed, deliveries.size()))
            .extracting(Delivery::replay)
            .containsOnly(false);
        // Ticks in the replayed history may be compacted; from its last entry on, none may be.
        long pivot = deliveries.get(replayed - 1).seq();
        assertThat(pivot).isGreaterThanOrEqualTo(subscriber.subscribedTo().orElseThrow().seq());
        assertThat(seqs.subList(replayed - 1, seqs.size()))
            .isEqualTo(LongStream.rangeClosed(pivot, completed.seq()).boxed().toList());
        assertThat(subscriber.violations()).isEmpty();
      }
    } finally {
      attached.countDown();
      publisher.shutdownNow();
    }
  }

  @Test
  void everyOneOfAThousandSubscribersReceivesEveryTransition() {
    create("job-1");
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      subscribers.add(subscribe("job-1"));
    }
    assertThat(hub.stats().subscriptions()).isEqualTo(1_000);

    List<Job> published = new ArrayList<>();
    published.add(hub.publish("job-1", status(JobStatus.IN_PROGRESS).build()));
    published.add(hub.publish("job-1", JobUpdate.builder().stage("download").build()));
    published.add(hub.publish("job-1", progress(30).build()));
    published.add(hub.publish("job-1", JobUpdate.builder().stage("encode").build()));
    published.add(hub.publish("job-1", progress(80).build()));
    published.add(hub.publish("job-1", status(JobStatus.COMPLETED).result("ok").build()));
    long last = published.getLast().seq();

    List<Job> expected = new ArrayList<>();
    expected.add(hub.history("job-1", 0, 1).getFirst());
    expected.addAll(published);
    for (RecordingSubscriber subscriber : subscribers) {
      awaitSeq(subscriber, last);
      assertThat(subscriber.deliveries()).extracting(Delivery::job).isEqualTo(expected);
      assertThat(subscriber.violations()).isEmpty();
    }
  }

  @Test
  void aSubscriberThatThrowsNeverStopsDeliveryToTheOtherSubscribers() {
    create("job-1");
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    // Each one records a live state and then fails, so whatever order the hub visits them in,
    // every one of them must still get every state.
    for (int i = 0; i < 4; i++) {
      subscribers.add(subscribeFailing("job-1", new IllegalStateException("subscriber bug")));
      subscribers.add(
          subscribeFailing(
              "job-1", new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory")));
      subscribers.add(subscribe("job-1"));
    }

    hub.publish("job-1", progress(10).build());
    hub.publish("job-1", JobUpdate.builder().stage("encode").build());
    hub.publish("job-1", status(JobStatus.COMPLETED).build());

    for (RecordingSubscriber subscriber : subscribers) {
      awaitSeq(subscriber, 4);
      assertThat(subscriber.seqs()).containsExactly(1L, 2L, 3L, 4L);
    }
  }

  @Test
  void closingASubscriptionStopsDelivery() {
    create("job-1");
    RecordingSubscriber leaving = new RecordingSubscriber();
    Subscription subscription = hub.subscribe("job-1", OptionalLong.empty(), leaving);
    RecordingSubscriber staying = subscribe("job-1");
    hub.publish("job-1", progress(10).build());
    awaitSeq(leaving, 2);

    subscription.close();
    subscription.close(); // closing twice is harmless

    assertThat(hub.stats().subscriptions()).isEqualTo(1);
    hub.publish("job-1", progress(20).build());
    Job completed = hub.publish("job-1", status(JobStatus.COMPLETED).build());
    // The broker delivers in order: once the other subscriber has the last state, so would we.
    awaitSeq(staying, completed.seq());
    assertThat(leaving.seqs()).containsExactly(1L, 2L);
  }

  // ---------------------------------------------------------------- delete and retention

  @Test
  void deleteTellsSubscribersAndForgetsTheJob() {
    create("job-1");
    hub.publish("job-1", progress(10).build());
    RecordingSubscriber subscriber = subscribe("job-1");

    assertThat(hub.delete("job-1")).isTrue();

    eventually().until(subscriber::removed);
    eventually().until(() -> hub.stats().subscriptions() == 0);
    assertThat(hub.find("job-1")).isEmpty();
    assertHubError(() -> hub.history("job-1", 0, 10), HubException.Kind.NOT_FOUND, "job_not_found");
    assertThat(subscriber.violations()).isEmpty();
    assertHubError(
        () -> hub.publish("job-1", progress(20).build()),
        HubException.Kind.NOT_FOUND,
        "job_not_found");
    assertThat(hub.delete("job-1")).isFalse();
  }

  @Test
  void deletedIdCanBeCreatedAgainFromSeqOne() {
    create("job-1");
    hub.publish("job-1", progress(10).eventId("evt-1").build());
    hub.delete("job-1");

    Job again = create("job-1");
    Job published = hub.publish("job-1", progress(10).eventId("evt-1").build());

    assertThat(again.seq()).isEqualTo(1);
    assertThat(published.seq()).isEqualTo(2);
    assertThat(published.updatedAt()).isEqualTo(clock.instant());
  }

  @Test
  void expireFinishedJobsRemovesOnlyJobsFinishedLongerAgoThanTheRetention() {
    Hub hub = newHub(Hub.builder().retention(Duration.ofHours(24)));
    hub.create(NewJob.builder().id("done-early").build());
    hub.lifecycle("done-early").markStarted();
    clock.advance(Duration.ofHours(1));
    hub.lifecycle("done-early").markCompleted("ok"); // finished at T0 + 1h
    clock.advance(Duration.ofHours(2));
    hub.create(NewJob.builder().id("done-late").build());
    hub.lifecycle("done-late").markFailed("boom"); // finished at T0 + 3h
    hub.create(NewJob.builder().id("running").build());
    hub.lifecycle("running").markStarted(); // never finishes
    RecordingSubscriber watchesEarly = new RecordingSubscriber();
    hub.subscribe("done-early", OptionalLong.empty(), watchesEarly);

    clock.advance(Duration.ofHours(22)); // exactly the retention after done-early finished
    assertThat(hub.expireFinishedJobs()).isZero();

    clock.advance(Duration.ofSeconds(1));
    assertThat(hub.expireFinishedJobs()).isEqualTo(1);
    assertThat(hub.find("done-early")).isEmpty();
    assertThat(hub.find("done-late")).isPresent();
    assertThat(hub.find("running")).isPresent();
    eventually().until(watchesEarly::removed);

    clock.advance(Duration.ofHours(2)); // T0 + 27 h + 1 s: the retention after done-late finished
    assertThat(hub.expireFinishedJobs()).isEqualTo(1);
    assertThat(hub.find("done-late")).isEmpty();

    clock.advance(Duration.ofDays(365));
    assertThat(hub.expireFinishedJobs()).isZero();
    assertThat(hub.find("running")).isPresent();
    assertThat(watchesEarly.violations()).isEmpty();
  }

  @Test
  void aWallClockJumpPastTheRetentionWindowDeletesNoFinishedJobEarly() {
    // The hub's own monotonic clock (System.nanoTime), as in production: only the wall jumps.
    Hub hub =
        Hub.builder()
            .clock(clock)
            .retention(Duration.ofSeconds(2))
            .retentionSweepInterval(Duration.ZERO)
            .build();
    hubs.add(hub);
    hub.create(NewJob.builder().id("done").build());
    hub.lifecycle("done").markStarted();
    hub.lifecycle("done").markCompleted("ok"); // finished at T0 on the wall clock

    clock.set(T0.plus(Duration.ofDays(2))); // stepped forward, far past the retention

    assertThat(hub.expireFinishedJobs()).isZero();
    assertThat(hub.find("done")).isPresent();
    // Once the retention has really passed, the job goes.
    await()
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> hub.expireFinishedJobs() == 1);
    assertThat(hub.find("done")).isEmpty();
  }

  @Test
  void afterAWallClockJumpFinishedJobsExpireByTheTimeThatReallyPassed() {
    Hub hub = newHub(Hub.builder().retention(Duration.ofHours(24)));
    hub.create(NewJob.builder().id("before-jump").build());
    hub.lifecycle("before-jump").markStarted();
    hub.lifecycle("before-jump").markCompleted("ok"); // finished at T0
    clock.advance(Duration.ofHours(1));

    clock.set(clock.instant().plus(Duration.ofDays(30)));
    hub.create(NewJob.builder().id("after-jump").build());
    hub.lifecycle("after-jump").markFailed("boom"); // finished at T0 + 1 h + 30 d on the wall

    assertThat(hub.expireFinishedJobs()).isZero();
    clock.advance(Duration.ofHours(23)); // 24 h really passed since before-jump finished
    assertThat(hub.expireFinishedJobs()).isZero();
    clock.advance(Duration.ofSeconds(1));
    assertThat(hub.expireFinishedJobs()).isEqualTo(1);
    assertThat(hub.find("before-jump")).isEmpty();
    // The one finished on the jumped clock is kept longer, never shorter.
    clock.advance(Duration.ofHours(1));
    assertThat(hub.expireFinishedJobs()).isZero();
    assertThat(hub.find("after-jump")).isPresent();
  }

  // ---------------------------------------------------------------- lifecycle

  @Test
  void lifecycleMarksWalkAJobFromQueuedToCompleted() {
    create("job-1");
    RecordingSubscriber subscriber = subscribe("job-1");
    JobLifecycle lifecycle = hub.lifecycle("job-1");

    Job queued = lifecycle.markQueued();
    Job started = lifecycle.markStarted();
    Job staged = lifecycle.markStage("transcribe", "loading model");
    clock.advance(Duration.ofSeconds(10));
    Job progressed = lifecycle.markProgress(40, "chunk 4/10");
    clock.advance(Duration.ofSeconds(5));
    Job completed = lifecycle.markCompleted(Map.of("captions", "s3://bucket/job-1.vtt"));

    assertThat(lifecycle.jobId()).isEqualTo("job-1");
    assertThat(queued.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(started.status()).isEqualTo(JobStatus.IN_PROGRESS);
    assertThat(started.startedAt()).contains(T0);
    assertThat(staged.stage()).contains("transcribe");
    assertThat(staged.message()).contains("loading model");
    assertThat(progressed.progress()).isEqualTo(40);
    assertThat(progressed.message()).contains("chunk 4/10");
    assertThat(progressed.etaSeconds()).hasValue(15);
    assertThat(completed.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(completed.progress()).isEqualTo(100);
    assertThat(completed.result()).contains(Map.of("captions", "s3://bucket/job-1.vtt"));
    assertThat(completed.elapsedSeconds()).hasValue(15);
    assertThat(completed.seq()).isEqualTo(6);
    assertThat(hub.get("job-1")).isEqualTo(completed);
    awaitSeq(subscriber, completed.seq());
    assertThat(subscriber.deliveries().subList(1, 6))
        .extracting(Delivery::job)
        .containsExactly(queued, started, staged, progressed, completed);
  }

  @Test
  void lifecycleMarkFailedRecordsTheError() {
    create("job-1");

    Job failed = hub.lifecycle("job-1").markFailed("out of memory");

    assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
    assertThat(failed.error()).contains("out of memory");
  }

  @Test
  void lifecycleMarkCancelledCancels() {
    create("job-1");

    Job cancelled = hub.lifecycle("job-1").markCancelled();

    assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
    assertHubError(
        () -> hub.lifecycle("job-1").markProgress(10, "late"),
        HubException.Kind.CONFLICT,
        "job_cancelled");
  }

  @Test
  void lifecycleOfAnInvalidIdIsRefused() {
    assertHubError(() -> hub.lifecycle("no/slashes"), HubException.Kind.INVALID, "invalid_job_id");
  }

  // ---------------------------------------------------------------- readers

  @Test
  void historyKeepsEveryTransitionAndTheLatestTick() {
    create("job-1");
    hub.publish("job-1", progress(10).build()); // 2: starts the job
    hub.publish("job-1", progress(20).build()); // 3
    hub.publish("job-1", JobUpdate.builder().stage("encode").build()); // 4
    hub.publish("job-1", progress(50).build()); // 5
    hub.publish("job-1", progress(60).build()); // 6

    assertThat(hub.history("job-1", 0, 100)).extracting(Job::seq).containsExactly(1L, 2L, 4L, 6L);
    assertThat(hub.history("job-1", 2, 1)).extracting(Job::seq).containsExactly(4L);
    assertHubError(
        () -> hub.history("job-nope", 0, 10), HubException.Kind.NOT_FOUND, "job_not_found");
  }

  @Test
  void statsCountJobsByStatusAndLocalSubscriptions() {
    create("pending");
    hub.create(NewJob.builder().id("queued").status(JobStatus.QUEUED).build());
    create("running");
    hub.lifecycle("running").markStarted();
    create("done");
    hub.lifecycle("done").markFailed("boom");
    Subscription first = hub.subscribe("pending", OptionalLong.empty(), new RecordingSubscriber());
    Subscription second = hub.subscribe("pending", OptionalLong.empty(), new RecordingSubscriber());
    hub.subscribe("running", OptionalLong.empty(), new RecordingSubscriber());

    HubStats stats = hub.stats();
    assertThat(stats.jobsByStatus())
        .containsOnly(
            Map.entry(JobStatus.PENDING, 1L),
            Map.entry(JobStatus.QUEUED, 1L),
            Map.entry(JobStatus.IN_PROGRESS, 1L),
            Map.entry(JobStatus.FAILED, 1L));
    assertThat(stats.subscriptions()).isEqualTo(3);
    assertThat(stats.watchedJobs()).isEqualTo(2);

    first.close();
    assertThat(hub.stats().subscriptions()).isEqualTo(2);
    assertThat(hub.stats().watchedJobs()).isEqualTo(2);
    second.close();
    assertThat(hub.stats().subscriptions()).isEqualTo(1);
    assertThat(hub.stats().watchedJobs()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- helpers

  private Job create(String id) {
    return hub.create(NewJob.builder().id(id).build());
  }

  private RecordingSubscriber subscribe(String jobId) {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    hub.subscribe(jobId, OptionalLong.empty(), subscriber);
    return subscriber;
  }

  /** A subscriber that records each live state, then throws {@code failure}. */
  private RecordingSubscriber subscribeFailing(String jobId, Throwable failure) {
    RecordingSubscriber recording = new RecordingSubscriber();
    hub.subscribe(
        jobId,
        OptionalLong.empty(),
        new Subscriber() {
          @Override
          public void onSubscribed(Job current, boolean recovered) {
            recording.onSubscribed(current, recovered);
          }

          @Override
          public void onJob(Job job, boolean replay, boolean transition) {
            recording.onJob(job, replay, transition);
            if (!replay) {
              sneakyThrow(failure);
            }
          }
        });
    return recording;
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneakyThrow(Throwable failure) throws T {
    throw (T) failure;
  }

  private RecordingSubscriber subscribe(String jobId, long since) {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    hub.subscribe(jobId, OptionalLong.of(since), subscriber);
    return subscriber;
  }

  private static JobUpdate.Builder progress(double progress) {
    return JobUpdate.builder().progress(progress);
  }

  private static JobUpdate.Builder status(JobStatus status) {
    return JobUpdate.builder().status(status);
  }

  private static ConditionFactory eventually() {
    return await().atMost(PATIENCE).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
  }

  private static void awaitSeq(RecordingSubscriber subscriber, long seq) {
    eventually().until(() -> subscriber.lastSeq() >= seq);
  }

  private static void assertHubError(ThrowingCallable call, HubException.Kind kind, String code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(kind);
              assertThat(e.code()).isEqualTo(code);
            });
  }
}
