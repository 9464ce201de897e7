package io.progresshub.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.HubEvent;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Broker} must have, as stated in its Javadoc. A broker module extends
 * this class and implements {@link #newNode()}; a broker that connects nodes (Redis, the test
 * {@code LoopbackBus}) also runs the tests with several nodes, a broker for one node alone says so
 * with {@link #maxNodes()}.
 */
public abstract class BrokerContract {

  protected static final Duration PATIENCE = Duration.ofSeconds(20);

  private final List<Broker> opened = new ArrayList<>();

  /**
   * A broker for one more node of this test's cluster: within one test, an event published on any
   * of them reaches the receivers of all of them. Closed after the test.
   */
  protected abstract Broker newNode();

  /** How many nodes {@link #newNode()} can join in one test; 1 for a broker of one node alone. */
  protected int maxNodes() {
    return Integer.MAX_VALUE;
  }

  @AfterEach
  void closeNodes() {
    for (Broker broker : opened) {
      broker.close();
    }
  }

  @Test
  void anEventReachesTheReceiverOfTheNodeThatPublishedIt() {
    Broker broker = node();
    Recorder received = new Recorder();
    broker.subscribe(received);

    HubEvent event = new HubEvent.JobUpdated(richJob("job-1"), HubEvent.Change.STATUS);
    broker.publish(event);

    await().atMost(PATIENCE).until(() -> received.size() == 1);
    assertThat(received.events()).containsExactly(event);
  }

  @Test
  void bothKindsOfEventArriveWithEveryFieldIntact() {
    Broker broker = node();
    Recorder received = new Recorder();
    broker.subscribe(received);
    Job job = richJob("job-1");
    Job ticked = JobRules.apply(job, JobUpdate.builder().progress(42).build(), job.updatedAt());
    List<HubEvent> sent =
        List.of(
            new HubEvent.JobUpdated(job, HubEvent.Change.CREATED),
            new HubEvent.JobUpdated(ticked, HubEvent.Change.TICK),
            new HubEvent.JobRemoved("job-1"));

    sent.forEach(broker::publish);

    await().atMost(PATIENCE).until(() -> received.size() == sent.size());
    assertThat(received.events()).containsExactlyElementsOf(sent);
  }

  @Test
  void eventsFromOnePublisherArriveInTheOrderItPublishedThemWhileOthersPublishToo()
      throws Exception {
    Broker broker = node();
    Recorder received = new Recorder();
    broker.subscribe(received);
    int publishers = 4;
    int perPublisher = 500;

    runConcurrently(
        publishers,
        publisher -> {
          for (int i = 0; i < perPublisher; i++) {
            broker.publish(removed(publisher, i));
          }
        });

    await().atMost(PATIENCE).until(() -> received.size() == publishers * perPublisher);
    assertInPublishOrder(received.events(), publishers, perPublisher);
  }

  @Test
  void theReceiverIsNeverCalledConcurrentlyWhateverTheNumberOfPublishers() throws Exception {
    Broker broker = node();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    AtomicInteger delivered = new AtomicInteger();
    broker.subscribe(
        event -> {
          int now = inFlight.incrementAndGet();
          mostInFlight.accumulateAndGet(now, Math::max);
          for (int spin = 0; spin < 200; spin++) {
            Thread.onSpinWait(); // widen the window in which an overlapping call would show
          }
          delivered.incrementAndGet();
          inFlight.decrementAndGet();
        });
    int publishers = 8;
    int perPublisher = 300;

    runConcurrently(
        publishers,
        publisher -> {
          for (int i = 0; i < perPublisher; i++) {
            broker.publish(removed(publisher, i));
          }
        });

    await().atMost(PATIENCE).until(() -> delivered.get() == publishers * perPublisher);
    assertThat(mostInFlight.get()).isEqualTo(1);
  }

  @Test
  void aReceiverThatThrowsDoesNotStopLaterDeliveries() {
    Broker broker = node();
    Recorder received = new Recorder();
    broker.subscribe(
        event -> {
          received.accept(event);
          if (event.jobId().equals("job-1")) {
            throw new IllegalStateException("receiver bug");
          }
        });

    for (int i = 1; i <= 3; i++) {
      broker.publish(new HubEvent.JobRemoved("job-" + i));
    }

    await().atMost(PATIENCE).until(() -> received.size() == 3);
    assertThat(received.jobIds()).containsExactly("job-1", "job-2", "job-3");
  }

  @Test
  void nothingIsDeliveredAfterCloseReturnsAndLaterPublishesReturnAtOnce() throws Exception {
    Broker broker = node();
    AtomicBoolean closeReturned = new AtomicBoolean();
    AtomicInteger deliveredAfterClose = new AtomicInteger();
    AtomicInteger delivered = new AtomicInteger();
    broker.subscribe(
        event -> {
          if (closeReturned.get()) {
            deliveredAfterClose.incrementAndGet();
          }
          delivered.incrementAndGet();
        });
    CountDownLatch publishing = new CountDownLatch(1);
    Thread publisher =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < 20_000; i++) {
                    broker.publish(new HubEvent.JobRemoved("job-" + i));
                    if (i == 100) {
                      publishing.countDown();
                    }
                  }
                });
    publishing.await();

    broker.close();
    closeReturned.set(true);
    for (int i = 0; i < 10; i++) {
      broker.publish(new HubEvent.JobRemoved("after-" + i));
    }

    assertThat(publisher.join(PATIENCE)).isTrue();
    int atClose = delivered.get();
    await().during(Duration.ofMillis(300)).atMost(PATIENCE).until(() -> delivered.get() == atClose);
    assertThat(deliveredAfterClose.get()).isZero();
  }

  @Test
  void everyNodesReceiverGetsEveryEventOfEveryNodeIncludingItsOwn() throws Exception {
    assumeThat(maxNodes()).as("the broker connects several nodes").isGreaterThanOrEqualTo(3);
    List<Broker> nodes = List.of(node(), node(), node());
    List<Recorder> receivers = new ArrayList<>();
    for (Broker node : nodes) {
      Recorder receiver = new Recorder();
      node.subscribe(receiver);
      receivers.add(receiver);
    }
    int perNode = 200;

    runConcurrently(
        nodes.size(),
        publisher -> {
          for (int i = 0; i < perNode; i++) {
            nodes.get(publisher).publish(removed(publisher, i));
          }
        });

    for (Recorder receiver : receivers) {
      await().atMost(PATIENCE).until(() -> receiver.size() == nodes.size() * perNode);
      assertInPublishOrder(receiver.events(), nodes.size(), perNode);
    }
  }

  @Test
  void aNodeThatClosedGetsNothingMoreWhileTheOthersStillDo() {
    assumeThat(maxNodes()).as("the broker connects several nodes").isGreaterThanOrEqualTo(3);
    Broker first = node();
    Broker second = node();
    Broker leaving = node();
    Recorder atFirst = new Recorder();
    Recorder atSecond = new Recorder();
    Recorder atLeaving = new Recorder();
    first.subscribe(atFirst);
    second.subscribe(atSecond);
    leaving.subscribe(atLeaving);
    first.publish(new HubEvent.JobRemoved("before"));
    await().atMost(PATIENCE).until(() -> atLeaving.size() == 1);

    leaving.close();
    first.publish(new HubEvent.JobRemoved("after"));

    await().atMost(PATIENCE).until(() -> atFirst.size() == 2 && atSecond.size() == 2);
    assertThat(atSecond.jobIds()).containsExactly("before", "after");
    await().during(Duration.ofMillis(200)).atMost(PATIENCE).until(() -> atLeaving.size() == 1);
  }

  /** A new node of this test's cluster, closed after the test. */
  protected final Broker node() {
    assumeThat(opened.size()).as("nodes this broker can join").isLessThan(maxNodes());
    Broker broker = newNode();
    opened.add(broker);
    return broker;
  }

  private static HubEvent removed(int publisher, int index) {
    return new HubEvent.JobRemoved("p" + publisher + "-" + index);
  }

  /** Each publisher's events ({@link #removed}) arrived, each once, in the order it sent them. */
  private static void assertInPublishOrder(
      List<HubEvent> received, int publishers, int perPublisher) {
    Map<String, List<Integer>> byPublisher = new HashMap<>();
    for (HubEvent event : received) {
      String[] parts = event.jobId().split("-");
      byPublisher
          .computeIfAbsent(parts[0], publisher -> new ArrayList<>())
          .add(Integer.parseInt(parts[1]));
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < perPublisher; i++) {
      expected.add(i);
    }
    assertThat(byPublisher).hasSize(publishers);
    byPublisher.forEach(
        (publisher, indexes) -> assertThat(indexes).as(publisher).isEqualTo(expected));
  }

  /** Runs {@code task} on {@code threads} threads at once, numbered from 0; waits for them all. */
  private static void runConcurrently(int threads, IntTask task) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> started = new ArrayList<>();
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      int index = t;
      started.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      task.run(index);
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    start.countDown();
    for (Thread thread : started) {
      assertThat(thread.join(PATIENCE)).isTrue();
    }
    assertThat(failures).isEmpty();
  }

  @FunctionalInterface
  private interface IntTask {
    void run(int index) throws Exception;
  }

  /** A job with every kind of field set, as a serializing broker must carry it. */
  private static Job richJob(String id) {
    Instant now = Instant.parse("2026-03-01T09:00:00.123456789Z");
    Job created =
        JobRules.created(
            NewJob.builder()
                .owner("alice")
                .type("video")
                .metadata(Map.of("source", "s3://bucket/in.mp4", "chunks", 10, "fps", 29.97))
                .build(),
            id,
            now);
    return JobRules.apply(
        created,
        JobUpdate.builder()
            .status(JobStatus.IN_PROGRESS)
            .stage("transcribe")
            .progress(12.5)
            .message("chunk 1/10")
            .build(),
        now.plusMillis(250));
  }

  /** Records what a receiver gets. */
  protected static final class Recorder implements Consumer<HubEvent> {
    private final List<HubEvent> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void accept(HubEvent event) {
      events.add(event);
    }

    public int size() {
      return events.size();
    }

    public List<HubEvent> events() {
      synchronized (events) {
        return List.copyOf(events);
      }
    }

    public List<String> jobIds() {
      return events().stream().map(HubEvent::jobId).toList();
    }
  }
}
