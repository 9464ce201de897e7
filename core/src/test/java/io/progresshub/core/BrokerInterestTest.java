package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.spi.Broker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a hub tells its broker about its subscribers ({@link Broker#interest}) and how it repairs
 * what the broker reports lost ({@link Broker#onMissed}).
 */
class BrokerInterestTest {

  private final ForgetfulBroker broker = new ForgetfulBroker();
  private final Hub hub =
      Hub.builder().broker(broker).retentionSweepInterval(Duration.ZERO).build();

  @AfterEach
  void closeHub() {
    hub.close();
  }

  @Test
  void aJobThisNodeWritesHasTheBrokersInterestUntilItFinishesWhateverItsSubscribersDo() {
    hub.create(NewJob.builder().id("job-1").build());
    assertThat(broker.interests()).containsExactly("+job-1");

    Subscription first = hub.subscribe("job-1", OptionalLong.empty(), new RecordingSubscriber());
    first.close();
    hub.publish("job-1", JobUpdate.builder().progress(10).build());
    assertThat(broker.interests()).containsExactly("+job-1");

    hub.publish("job-1", JobUpdate.builder().status(JobStatus.COMPLETED).build());
    assertThat(broker.interests()).containsExactly("+job-1", "-job-1");
  }

  @Test
  void aFinishedJobHasTheBrokersInterestFromItsFirstSubscriberUntilItsLastLeaves() {
    hub.create(NewJob.builder().id("job-1").build());
    hub.cancel("job-1");

    Subscription first = hub.subscribe("job-1", OptionalLong.empty(), new RecordingSubscriber());
    Subscription second = hub.subscribe("job-1", OptionalLong.empty(), new RecordingSubscriber());
    first.close();
    assertThat(broker.interests()).containsExactly("+job-1", "-job-1", "+job-1");

    second.close();
    assertThat(broker.interests()).containsExactly("+job-1", "-job-1", "+job-1", "-job-1");
  }

  @Test
  void aJobTheBrokerReportsMissedIsReadAgainIntoTheWriteCache() {
    InMemoryJobStore store = new InMemoryJobStore();
    try (Hub forgetful =
            Hub.builder()
                .store(store)
                .broker(broker)
                .retentionSweepInterval(Duration.ZERO)
                .build();
        Hub other = Hub.builder().store(store).retentionSweepInterval(Duration.ZERO).build()) {
      forgetful.create(NewJob.builder().id("job-1").build());
      other.publish("job-1", JobUpdate.builder().progress(30).build());
      assertThat(forgetful.get("job-1").seq()).isEqualTo(1);

      broker.missed.accept("job-1");

      assertThat(forgetful.get("job-1").seq()).isEqualTo(2);
      assertThat(forgetful.get("job-1").progress()).isEqualTo(30.0);
    }
  }

  @Test
  void aJobTheBrokerReportsMissedIsReadFromTheStoreAndItsSubscribersGetWhatTheyLacked() {
    hub.create(NewJob.builder().id("job-1").build());
    RecordingSubscriber subscriber = new RecordingSubscriber();
    hub.subscribe("job-1", OptionalLong.empty(), subscriber);
    broker.forgetting = true;
    hub.publish("job-1", JobUpdate.builder().status(JobStatus.IN_PROGRESS).build());
    hub.publish("job-1", JobUpdate.builder().progress(10).build());
    hub.publish("job-1", JobUpdate.builder().progress(20).build());
    assertThat(subscriber.seqs()).containsExactly(1L);

    broker.missed.accept("job-1");

    // seq 3 was a tick the store compacted away: the history keeps transitions and the last tick.
    await().atMost(Duration.ofSeconds(10)).until(() -> subscriber.lastSeq() == 4);
    assertThat(subscriber.seqs()).containsExactly(1L, 2L, 4L);
    assertThat(subscriber.violations()).isEmpty();
  }

  @Test
  void aMissedJobThatIsGoneIsRemovedForItsSubscribers() {
    hub.create(NewJob.builder().id("job-1").build());
    RecordingSubscriber subscriber = new RecordingSubscriber();
    hub.subscribe("job-1", OptionalLong.empty(), subscriber);
    broker.forgetting = true;
    hub.delete("job-1");
    assertThat(subscriber.removed()).isFalse();

    broker.missed.accept("job-1");

    assertThat(subscriber.removed()).isTrue();
  }

  /** Delivers until told to forget; records the interest calls. */
  private static final class ForgetfulBroker implements Broker {
    private final InMemoryBroker inner = new InMemoryBroker();
    private final List<String> interests = new ArrayList<>();
    volatile boolean forgetting;
    volatile Consumer<String> missed;

    @Override
    public void publish(HubEvent event) {
      if (!forgetting) {
        inner.publish(event);
      }
    }

    @Override
    public void subscribe(Consumer<HubEvent> receiver) {
      inner.subscribe(receiver);
    }

    @Override
    public synchronized void interest(String jobId, boolean interested) {
      interests.add((interested ? "+" : "-") + jobId);
    }

    synchronized List<String> interests() {
      return List.copyOf(interests);
    }

    @Override
    public void onMissed(Consumer<String> jobId) {
      missed = jobId;
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
