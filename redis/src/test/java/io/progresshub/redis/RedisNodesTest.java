package io.progresshub.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.core.Subscriber;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.StoredEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Several nodes, each with its own connections, on one redis-server. */
class RedisNodesTest {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private final String prefix = RedisServer.freshPrefix();
  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : opened.reversed()) {
      closeable.close();
    }
  }

  @Test
  void writersOnTwoStoresRacingForOneJobNeverLeaveAGapOrADuplicate() throws Exception {
    RedisJobStore first = store("node-a");
    RedisJobStore second = store("node-b");
    Job created =
        JobRules.created(NewJob.builder().build(), "race", Instant.parse("2026-03-01T09:00:00Z"));
    first.append(new StoredEvent(created, true, Optional.empty())).get(10, TimeUnit.SECONDS);
    int writersPerStore = 4;
    int changesPerWriter = 25;
    List<Thread> writers = new ArrayList<>();
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    AtomicLong staleSeqs = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    for (int w = 0; w < 2 * writersPerStore; w++) {
      RedisJobStore store = w % 2 == 0 ? first : second;
      String writer = "w" + w;
      writers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int i = 0; i < changesPerWriter; i++) {
                        appendUntilItLands(store, writer + "-" + i, staleSeqs);
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    start.countDown();
    for (Thread writer : writers) {
      assertThat(writer.join(PATIENCE)).isTrue();
    }

    assertThat(failures).isEmpty();
    int events = 1 + 2 * writersPerStore * changesPerWriter;
    List<Job> history = second.history("race", 0, 10_000);
    assertThat(history).extracting(Job::seq).containsExactlyElementsOf(seqs(events));
    assertThat(history.stream().skip(1).map(job -> job.stage().orElseThrow()).distinct())
        .hasSize(events - 1);
    assertThat(first.find("race").orElseThrow().seq()).isEqualTo(events);
    assertThat(staleSeqs.get()).as("the writers did race").isPositive();
  }

  @Test
  void aProducerRetryingThroughAnotherNodeGetsTheOriginalResultEvenAfterItsTickWasCompacted() {
    Hub first = hub("node-a");
    Hub second = hub("node-b");
    first.create(NewJob.builder().id("job-1").build());
    first.publish("job-1", JobUpdate.builder().status(JobStatus.IN_PROGRESS).build());
    Job original = first.publish("job-1", JobUpdate.builder().progress(10).eventId("e-1").build());
    first.publish("job-1", JobUpdate.builder().progress(20).eventId("e-2").build());

    Job retried = second.publish("job-1", JobUpdate.builder().progress(10).eventId("e-1").build());

    assertThat(retried).isEqualTo(original);
    assertThat(second.find("job-1").orElseThrow().seq()).isEqualTo(4);
    assertThat(second.history("job-1", 0, 10)).extracting(Job::seq).containsExactly(1L, 2L, 4L);
  }

  @Test
  void aSubscriberOnOneNodeGetsTicksWrittenThroughAnotherAndTheOtherNodeStopsReceivingThemAfter() {
    Hub writer = hub("node-a");
    RedisBroker watcherBroker = RedisBroker.open(REDIS.settings(prefix, "node-b"));
    Hub watcher = hub("node-b", watcherBroker);
    writer.create(NewJob.builder().id("job-1").build());
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    var subscription = watcher.subscribe("job-1", OptionalLong.empty(), new SeqRecorder(seen));
    assertThat(watcherBroker.watchedJobs()).isEqualTo(1);
    // Ticks published before Redis confirmed the subscription would only be repaired from the
    // store, which keeps the latest tick alone.
    await().atMost(PATIENCE).until(() -> watcherBroker.listening("job-1"));

    for (int i = 1; i <= 20; i++) {
      writer.publish("job-1", JobUpdate.builder().progress(i).build());
    }

    // Every tick arrives live: a repair from the store would find only the latest one.
    await().atMost(PATIENCE).until(() -> !seen.isEmpty() && seen.getLast() == 21);
    assertThat(seen).containsExactlyElementsOf(seqs(21));
    subscription.close();
    assertThat(watcherBroker.watchedJobs()).isZero();
    assertThat(watcherBroker.listening("job-1")).isFalse();
  }

  @Test
  void aNodeThatWroteAJobFollowsTheTicksOtherNodesWriteToIt() {
    Hub first = hub("node-a");
    Hub second = hub("node-b");
    first.create(NewJob.builder().id("job-1").build());
    second.publish("job-1", JobUpdate.builder().status(JobStatus.IN_PROGRESS).build());

    Job latest = null;
    for (int i = 1; i <= 5; i++) {
      latest = second.publish("job-1", JobUpdate.builder().progress(i * 10).build());
    }

    // first answers from its write cache: it must have heard of second's ticks.
    Job expected = latest;
    await().atMost(PATIENCE).until(() -> first.get("job-1").equals(expected));
  }

  @Test
  void scriptsTheServerForgotAreSentAgainByTheirText() throws Exception {
    RedisJobStore store = store("node-a");
    Job job =
        JobRules.created(NewJob.builder().build(), "job-1", Instant.parse("2026-03-01T09:00:00Z"));
    store.append(new StoredEvent(job, true, Optional.empty())).get(10, TimeUnit.SECONDS);

    RedisClient admin = RedisClient.create(REDIS.uri());
    try (var connection = admin.connect()) {
      connection.sync().scriptFlush(); // as a restart of Redis without its script cache would
    } finally {
      admin.shutdown();
    }

    Job next = JobRules.apply(job, JobUpdate.builder().stage("after").build(), Instant.now());
    store.append(new StoredEvent(next, true, Optional.empty())).get(10, TimeUnit.SECONDS);
    assertThat(store.find("job-1")).contains(next);
    assertThat(store.list(JobQuery.all()).total()).isEqualTo(1);
  }

  @Test
  void tenThousandJobsAreListedPagedAndFilteredInReasonableTime() {
    RedisJobStore store = store("node-a");
    Instant t0 = Instant.parse("2026-03-01T09:00:00Z");
    List<CompletableFuture<Void>> appends = new ArrayList<>();
    int jobs = 10_000;
    for (int i = 0; i < jobs; i++) {
      Job job =
          JobRules.created(
              NewJob.builder()
                  .owner(i % 2 == 0 ? "alice" : "bob")
                  .type(i % 10 == 0 ? "video" : "audio")
                  .build(),
              "job-" + i,
              t0.plusMillis(i));
      appends.add(store.append(new StoredEvent(job, true, Optional.empty())));
      if (appends.size() == 500) {
        // In batches: 10,000 appends at once could outwait the command timeout on a busy disk.
        CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).join();
        appends.clear();
      }
    }
    CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).join();

    long started = System.nanoTime();
    var newest =
        store.list(new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 100));
    var deepPage =
        store.list(new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), 9_950, 100));
    long unfiltered = System.nanoTime() - started;
    started = System.nanoTime();
    var aliceVideos =
        store.list(
            new JobQuery(Optional.empty(), Optional.of("alice"), Optional.of("video"), 0, 1000));
    var searched =
        store.list(
            new JobQuery(
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.of("JOB-99"), 0, 5));
    long filtered = System.nanoTime() - started;

    assertThat(newest.total()).isEqualTo(jobs);
    assertThat(newest.jobs().getFirst().id()).isEqualTo("job-9999");
    assertThat(deepPage.jobs()).hasSize(50);
    assertThat(deepPage.jobs().getLast().id()).isEqualTo("job-0");
    assertThat(aliceVideos.total()).isEqualTo(1000);
    assertThat(aliceVideos.jobs()).allMatch(job -> job.owner().equals("alice"));
    // job-99, job-990..job-999, job-9900..job-9999
    assertThat(searched.total()).isEqualTo(1 + 10 + 100);
    assertThat(searched.jobs()).extracting(Job::id).first().isEqualTo("job-9999");
    System.out.printf(
        "10,000 jobs: two unfiltered pages %d ms, two filtered (owner+type, id search) %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(unfiltered), TimeUnit.NANOSECONDS.toMillis(filtered));
    assertThat(Duration.ofNanos(unfiltered)).isLessThan(Duration.ofSeconds(2));
    assertThat(Duration.ofNanos(filtered)).isLessThan(Duration.ofSeconds(5));
  }

  /** Reads the job, applies a stage change, appends it; again on stale_seq. */
  private static void appendUntilItLands(RedisJobStore store, String stage, AtomicLong staleSeqs) {
    for (int attempt = 0; attempt < 10_000; attempt++) {
      Job previous = store.find("race").orElseThrow();
      Job next = JobRules.apply(previous, JobUpdate.builder().stage(stage).build(), Instant.now());
      try {
        store.append(new StoredEvent(next, true, Optional.empty())).join();
        return;
      } catch (CompletionException e) {
        if (!(e.getCause() instanceof HubException hub)
            || hub.reason() != HubException.Code.STALE_SEQ) {
          throw e;
        }
        staleSeqs.incrementAndGet();
      }
    }
    throw new AssertionError("stage " + stage + " never landed");
  }

  /**
   * The delete and retention scripts broadcast their removals themselves: a store with no broker at
   * all (as a node whose pub/sub connection is down) still tells the other nodes' subscribers.
   */
  @Test
  void aJobDeletedOrExpiredThroughAStoreAloneIsRemovedForTheSubscribersOfOtherNodes()
      throws Exception {
    Hub watcher = hub("node-b");
    RedisJobStore deleter = store("node-a");
    watcher.create(NewJob.builder().id("deleted").build());
    watcher.create(NewJob.builder().id("expired").build());
    watcher.publish("expired", JobUpdate.builder().status(JobStatus.IN_PROGRESS).build());
    watcher.publish("expired", JobUpdate.builder().status(JobStatus.COMPLETED).build());
    List<String> removed = Collections.synchronizedList(new ArrayList<>());
    for (String jobId : List.of("deleted", "expired")) {
      watcher.subscribe(
          jobId,
          OptionalLong.empty(),
          new Subscriber() {
            @Override
            public void onSubscribed(Job current, boolean recovered) {}

            @Override
            public void onJob(Job job, boolean replay, boolean transition) {}

            @Override
            public void onRemoved(String id) {
              removed.add(id);
            }
          });
    }

    assertThat(deleter.delete("deleted").get(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(PATIENCE).until(() -> removed.contains("deleted"));
    assertThat(deleter.deleteFinishedBefore(Instant.now().plusSeconds(60)))
        .containsExactly("expired");
    await().atMost(PATIENCE).until(() -> removed.contains("expired"));
    assertThat(removed).containsExactly("deleted", "expired");
    assertThat(watcher.find("deleted")).isEmpty();
    assertThat(watcher.find("expired")).isEmpty();
  }

  /**
   * Whatever else is published on a deployment's channels (a stray client, another version) is
   * skipped with a warning; the node goes on delivering the real events.
   */
  @Test
  void messagesOnTheChannelsThatAreNotEventsAreSkippedAndDeliveryGoesOn() throws Exception {
    Hub writer = hub("node-a");
    RedisBroker watcherBroker = RedisBroker.open(REDIS.settings(prefix, "node-b"));
    Hub watcher = hub("node-b", watcherBroker);
    List<String> lifecycle = Collections.synchronizedList(new ArrayList<>());
    watcher.observe(event -> lifecycle.add(event.jobId()));
    writer.create(NewJob.builder().id("job-1").build());
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    watcher.subscribe("job-1", OptionalLong.empty(), new SeqRecorder(seen));
    await().atMost(PATIENCE).until(() -> watcherBroker.listening("job-1"));

    RedisKeys keys = new RedisKeys(prefix);
    RedisClient raw = RedisClient.create(REDIS.uri());
    try (var connection = raw.connect()) {
      var redis = connection.sync();
      for (String junk : List.of("", "no newline", "not-an-id\nU\nx\nSTATUS\n{}", "1-1\ngarbage")) {
        redis.publish(keys.lifecycleChannel(), junk);
      }
      for (String junk : List.of("", "U\nnode-x\nTICK\n{not json", "R")) {
        redis.spublish(keys.jobChannel("job-1"), junk);
      }
    } finally {
      raw.shutdown();
    }
    writer.publish("job-1", JobUpdate.builder().progress(5).build());
    writer.create(NewJob.builder().id("job-2").build());

    await().atMost(PATIENCE).until(() -> seen.contains(2L) && lifecycle.contains("job-2"));
    assertThat(seen).containsExactly(1L, 2L);
  }

  private static List<Long> seqs(int count) {
    List<Long> seqs = new ArrayList<>();
    for (long seq = 1; seq <= count; seq++) {
      seqs.add(seq);
    }
    return seqs;
  }

  private RedisJobStore store(String nodeId) {
    return track(RedisJobStore.open(REDIS.settings(prefix, nodeId)));
  }

  private Hub hub(String nodeId) {
    return hub(nodeId, RedisBroker.open(REDIS.settings(prefix, nodeId)));
  }

  /** A node with {@code broker}, which the test keeps to ask what it listens to. */
  private Hub hub(String nodeId, RedisBroker broker) {
    return track(
        Hub.builder()
            .store(RedisJobStore.open(REDIS.settings(prefix, nodeId)))
            .broker(broker)
            .retentionSweepInterval(Duration.ZERO)
            .build());
  }

  private <T extends AutoCloseable> T track(T closeable) {
    opened.add(closeable);
    return closeable;
  }
}
