package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.BrokerContract;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InMemoryBrokerTest extends BrokerContract {

  @Override
  protected Broker newNode() {
    return new InMemoryBroker();
  }

  /** One node alone: its events reach its own receiver only. */
  @Override
  protected int maxNodes() {
    return 1;
  }

  @Test
  void aFullDispatchQueueMakesPublishersWaitAndDropsNoEvent() throws Exception {
    int capacity = 8;
    try (InMemoryBroker broker = new InMemoryBroker(capacity)) {
      CountDownLatch receiverMayGoOn = new CountDownLatch(1);
      List<String> received = Collections.synchronizedList(new ArrayList<>());
      broker.subscribe(
          event -> {
            awaitQuietly(receiverMayGoOn); // a receiver that cannot keep up
            received.add(event.jobId());
          });
      AtomicInteger published = new AtomicInteger();
      Thread publisher =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 100; i++) {
                      broker.publish(new HubEvent.JobRemoved("job-" + i));
                      published.incrementAndGet();
                    }
                  });

      // One event is with the receiver, the queue holds the capacity, the publisher waits.
      await()
          .atMost(PATIENCE)
          .until(
              () ->
                  publisher.getState() == Thread.State.TIMED_WAITING
                      || publisher.getState() == Thread.State.TERMINATED);
      await()
          .during(Duration.ofMillis(300))
          .atMost(PATIENCE)
          .until(() -> published.get() <= capacity + 1);

      receiverMayGoOn.countDown();
      publisher.join(PATIENCE.toMillis());
      await().atMost(PATIENCE).until(() -> received.size() == 100);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        expected.add("job-" + i);
      }
      assertThat(received).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void aReceiverThatThrowsAnErrorDoesNotStopLaterDeliveries() {
    try (InMemoryBroker broker = new InMemoryBroker()) {
      List<String> received = Collections.synchronizedList(new ArrayList<>());
      broker.subscribe(
          event -> {
            received.add(event.jobId());
            if (event.jobId().equals("job-1")) {
              throw new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory");
            }
            if (event.jobId().equals("job-2")) {
              throw new IllegalStateException("receiver bug");
            }
          });

      for (int i = 1; i <= 3; i++) {
        broker.publish(new HubEvent.JobRemoved("job-" + i));
      }

      await().atMost(PATIENCE).until(() -> received.size() == 3);
      assertThat(received).containsExactly("job-1", "job-2", "job-3");
    }
  }

  @Test
  void closeReleasesAPublisherWaitingForRoom() throws Exception {
    InMemoryBroker broker = new InMemoryBroker(1);
    CountDownLatch receiverMayGoOn = new CountDownLatch(1);
    broker.subscribe(event -> awaitQuietly(receiverMayGoOn));
    Thread publisher =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < 10; i++) {
                    broker.publish(new HubEvent.JobRemoved("job-" + i));
                  }
                });
    await().atMost(PATIENCE).until(() -> publisher.getState() == Thread.State.TIMED_WAITING);

    Thread closing = Thread.ofPlatform().start(broker::close);

    assertThat(publisher.join(Duration.ofSeconds(2))).isTrue();
    receiverMayGoOn.countDown();
    assertThat(closing.join(PATIENCE)).isTrue();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
