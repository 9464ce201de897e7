package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three hubs over one shared store, joined by a {@link LoopbackBus} as a pub/sub channel would join
 * them: what a store must support for hubs to share it. A store module extends this class and
 * implements {@link #newSharedStore()}. A store whose instances share their data (a server) may
 * give each hub an instance of its own ({@link #newHubStore}), and a broker module its own broker
 * per hub ({@link #newHubBroker}).
 */
public abstract class ClusterHubContract {

  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final int HUBS = 3;

  /** The store every hub writes to; closed after the test, when the hubs are. */
  protected abstract JobStore newSharedStore();

  /**
   * The store hub {@code index} writes to, over the same data as {@link #newSharedStore()}; empty
   * (the default) to use that one. Closed by its hub.
   */
  protected Optional<JobStore> newHubStore(int index) {
    return Optional.empty();
  }

  /** The broker of hub {@code index}; by default one more view of a {@link LoopbackBus}. */
  protected Broker newHubBroker(int index) {
    return bus.newBroker();
  }

  private final LoopbackBus bus = new LoopbackBus();
  private final List<Hub> hubs = new ArrayList<>();
  private SharedStore shared;

  @BeforeEach
  void startHubs() {
    shared = new SharedStore(newSharedStore(), new AtomicInteger(), false);
    for (int i = 0; i < HUBS; i++) {
      JobStore store =
          newHubStore(i)
              .<JobStore>map(own -> new SharedStore(own, shared.stale, true))
              .orElse(shared);
      hubs.add(
          Hub.builder()
              .store(store)
              .broker(newHubBroker(i))
              .retentionSweepInterval(Duration.ZERO)
              .build());
    }
  }

  @AfterEach
  void stopHubs() {
    hubs.forEach(Hub::close);
    shared.inner.close();
  }

  @Test
  void everySubscriberOnEveryHubGetsEveryStateOfJobsWrittenThroughEveryHubInSeqOrder()
      throws Exception {
    int jobs = 3;
    int publishersPerHub = 2;
    int eventsPerPublisherAndJob = 40;
    int subscribersPerHubAndJob = 2;
    List<String> jobIds = new ArrayList<>();
    for (int j = 0; j < jobs; j++) {
      String jobId = hub(j).create(NewJob.builder().id("job-" + j).build()).id();
      hub(j + 1).lifecycle(jobId).markStarted();
      jobIds.add(jobId);
    }
    hub(0).create(NewJob.builder().id("quiet").build());
    List<List<RecordingSubscriber>> subscribers = new ArrayList<>();
    for (String jobId : jobIds) {
      List<RecordingSubscriber> ofJob = new ArrayList<>();
      for (Hub hub : hubs) {
        for (int s = 0; s < subscribersPerHubAndJob; s++) {
          RecordingSubscriber subscriber = new RecordingSubscriber();
          hub.subscribe(jobId, OptionalLong.empty(), subscriber);
          ofJob.add(subscriber);
        }
      }
      subscribers.add(ofJob);
    }
    List<RecordingSubscriber> quiet = new ArrayList<>();
    for (Hub hub : hubs) {
      RecordingSubscriber subscriber = new RecordingSubscriber();
      hub.subscribe("quiet", OptionalLong.empty(), subscriber);
      quiet.add(subscriber);
    }

    // Every publisher changes the stage of every job, so every state is a transition: none may be
    // missing. Odd publishers pipeline a few events at a time (publishAsync), even ones wait for
    // each.
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> publishers = new ArrayList<>();
    for (int h = 0; h < HUBS; h++) {
      for (int p = 0; p < publishersPerHub; p++) {
        Hub hub = hubs.get(h);
        String name = "h" + h + "p" + p;
        boolean pipelining = p % 2 == 1;
        publishers.add(
            Thread.ofPlatform()
                .name(name)
                .start(
                    () -> {
                      try {
                        start.await();
                        publish(hub, name, jobIds, eventsPerPublisherAndJob, pipelining);
                      } catch (Throwable e) {
                        failures.add(e);
                      }
                    }));
      }
    }
    start.countDown();
    for (Thread publisher : publishers) {
      assertThat(publisher.join(PATIENCE)).as(publisher.getName()).isTrue();
    }
    assertThat(failures).isEmpty();
    for (int j = 0; j < jobs; j++) {
      hub(j + 1).publish(jobIds.get(j), JobUpdate.builder().status(JobStatus.COMPLETED).build());
    }

    long finalSeq = 2 + (long) HUBS * publishersPerHub * eventsPerPublisherAndJob + 1;
    for (int j = 0; j < jobs; j++) {
      String jobId = jobIds.get(j);
      Job last = shared.find(jobId).orElseThrow();
      assertThat(last.seq()).isEqualTo(finalSeq);
      assertThat(last.status()).isEqualTo(JobStatus.COMPLETED);
      List<Job> history = shared.history(jobId, 0, (int) finalSeq + 1);
      assertThat(history)
          .extracting(Job::seq)
          .containsExactlyElementsOf(LongStream.rangeClosed(1, finalSeq).boxed().toList());
      assertEachPublishersStagesInOrder(history, eventsPerPublisherAndJob);
      for (RecordingSubscriber subscriber : subscribers.get(j)) {
        await().atMost(PATIENCE).until(() -> subscriber.lastSeq() == finalSeq);
        assertThat(subscriber.violations()).isEmpty();
        // The very states the store kept, each once, in seq order, from the one at subscribe on
        // (the hub's cached state: the job's creation if the start has not reached that hub yet).
        long firstSeq = subscriber.seqs().getFirst();
        assertThat(firstSeq).isBetween(1L, 2L);
        assertThat(subscriber.deliveries())
            .extracting(RecordingSubscriber.Delivery::job)
            .containsExactlyElementsOf(history.subList((int) firstSeq - 1, history.size()));
        assertThat(subscriber.deliveries()).allMatch(RecordingSubscriber.Delivery::transition);
        assertThat(subscriber.last()).contains(last);
      }
    }
    assertThat(staleSeqs())
        .as("appends that lost the race for their seq, and were retried")
        .isPositive();
    for (RecordingSubscriber subscriber : quiet) {
      assertThat(subscriber.seqs()).containsExactly(1L);
      assertThat(subscriber.violations()).isEmpty();
    }
  }

  @Test
  void eventsOfAHubWhoseCacheIsBehindLandOnTheStoredStateInTheOrderTheyWerePublished() {
    // This hub hears nothing from the others: its cached state of the job stays at seq 1.
    Hub deaf =
        Hub.builder()
            .store(shared)
            .broker(
                new Broker() {
                  @Override
                  public void publish(HubEvent event) {}

                  @Override
                  public void subscribe(Consumer<HubEvent> receiver) {}

                  @Override
                  public void close() {}
                })
            .retentionSweepInterval(Duration.ZERO)
            .build();
    hubs.add(deaf);
    deaf.create(NewJob.builder().id("job-1").build());
    hub(0).publish("job-1", JobUpdate.builder().stage("elsewhere").build());

    List<CompletableFuture<Job>> pipelined = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      pipelined.add(deaf.publishAsync("job-1", JobUpdate.builder().stage("deaf-" + i).build()));
    }

    assertThat(pipelined)
        .extracting(future -> future.join().seq())
        .containsExactly(3L, 4L, 5L, 6L, 7L);
    assertThat(shared.history("job-1", 0, 10))
        .extracting(job -> job.stage().orElse(""))
        .containsExactly("", "elsewhere", "deaf-0", "deaf-1", "deaf-2", "deaf-3", "deaf-4");
    assertThat(staleSeqs()).isPositive();
  }

  @Test
  void aJobDeletedThroughOneHubIsRemovedForSubscribersOfEveryHubAndGoneForTheOthers() {
    hub(0).create(NewJob.builder().id("job-1").build());
    hub(1).publish("job-1", JobUpdate.builder().stage("download").build());
    hub(2).publish("job-1", JobUpdate.builder().stage("encode").build());
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    for (Hub hub : hubs) {
      RecordingSubscriber subscriber = new RecordingSubscriber();
      hub.subscribe("job-1", OptionalLong.empty(), subscriber);
      subscribers.add(subscriber);
    }

    assertThat(hub(1).delete("job-1")).isTrue();

    for (RecordingSubscriber subscriber : subscribers) {
      await().atMost(PATIENCE).until(subscriber::removed);
      assertThat(subscriber.violations()).isEmpty();
    }
    for (Hub hub : hubs) {
      assertThat(hub.find("job-1")).isEmpty();
      assertThatJobNotFound(() -> hub.publish("job-1", JobUpdate.builder().stage("late").build()));
    }
    Job recreated = hub(2).create(NewJob.builder().id("job-1").build());
    assertThat(recreated.seq()).isEqualTo(1);
    assertThat(hub(0).publish("job-1", JobUpdate.builder().stage("again").build()).seq())
        .isEqualTo(2);
  }

  @Test
  void aProducerRetryingItsEventThroughAnotherHubGetsTheOriginalResult() {
    hub(0).create(NewJob.builder().id("job-1").build());
    Job first =
        hub(0).publish("job-1", JobUpdate.builder().stage("download").eventId("e-2").build());

    Job retried =
        hub(1).publish("job-1", JobUpdate.builder().stage("download").eventId("e-2").build());

    assertThat(retried).isEqualTo(first);
    assertThat(hub(2).history("job-1", 0, 10)).extracting(Job::seq).containsExactly(1L, 2L);
  }

  /** How many appends the store refused with {@code stale_seq} so far. */
  protected final int staleSeqs() {
    return shared.stale.get();
  }

  private Hub hub(int index) {
    return hubs.get(index % hubs.size());
  }

  private static void publish(
      Hub hub, String name, List<String> jobIds, int events, boolean pipelining) {
    List<CompletableFuture<Job>> inFlight = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      for (String jobId : jobIds) {
        JobUpdate update = JobUpdate.builder().stage(name + "-" + i).build();
        if (pipelining) {
          inFlight.add(hub.publishAsync(jobId, update));
        } else {
          hub.publish(jobId, update);
        }
      }
      if (inFlight.size() >= 4 * jobIds.size() || i == events - 1) {
        inFlight.forEach(CompletableFuture::join);
        inFlight.clear();
      }
    }
  }

  /**
   * Per publisher, its stage changes ({@code <publisher>-<i>}) landed in the order it sent them.
   */
  private static void assertEachPublishersStagesInOrder(List<Job> history, int events) {
    Map<String, List<Integer>> byPublisher = new TreeMap<>();
    Optional<String> previous = Optional.empty();
    for (Job job : history) {
      if (job.stage().isPresent() && !job.stage().equals(previous)) {
        String[] parts = job.stage().get().split("-");
        byPublisher
            .computeIfAbsent(parts[0], name -> new ArrayList<>())
            .add(Integer.parseInt(parts[1]));
      }
      previous = job.stage();
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      expected.add(i);
    }
    assertThat(byPublisher).isNotEmpty();
    byPublisher.forEach((name, sent) -> assertThat(sent).as(name).isEqualTo(expected));
  }

  private static void assertThatJobNotFound(Runnable call) {
    try {
      call.run();
      throw new AssertionError("expected job_not_found");
    } catch (HubException e) {
      assertThat(e.code()).isEqualTo("job_not_found");
    }
  }

  /**
   * A view of a store that counts the appends refused as stale. A hub closes its store when it
   * closes; the view of the store all hubs share leaves that to the test.
   */
  private static final class SharedStore implements JobStore {
    private final JobStore inner;
    private final AtomicInteger stale;
    private final boolean closes;

    SharedStore(JobStore inner, AtomicInteger stale, boolean closes) {
      this.inner = inner;
      this.stale = stale;
      this.closes = closes;
    }

    @Override
    public CompletableFuture<Void> append(StoredEvent event) {
      return inner
          .append(event)
          .whenComplete(
              (ignored, failure) -> {
                if (failure instanceof HubException e
                    && e.reason() == HubException.Code.STALE_SEQ) {
                  stale.incrementAndGet();
                }
              });
    }

    @Override
    public Optional<Job> find(String jobId) {
      return inner.find(jobId);
    }

    @Override
    public List<Job> history(String jobId, long afterSeq, int limit) {
      return inner.history(jobId, afterSeq, limit);
    }

    @Override
    public Optional<Job> findByEventId(String jobId, String eventId) {
      return inner.findByEventId(jobId, eventId);
    }

    @Override
    public JobPage list(JobQuery query) {
      return inner.list(query);
    }

    @Override
    public Map<JobStatus, Long> countByStatus() {
      return inner.countByStatus();
    }

    @Override
    public CompletableFuture<Boolean> delete(String jobId) {
      return inner.delete(jobId);
    }

    @Override
    public List<String> deleteFinishedBefore(Instant cutoff) {
      return inner.deleteFinishedBefore(cutoff);
    }

    @Override
    public void close() {
      if (closes) {
        inner.close();
      }
    }
  }
}
