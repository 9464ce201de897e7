package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.spi.Broker;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A state that reaches a node ahead of states it never got (another node wrote them while this
 * node's broker was cut off): its subscribers get the missing ones from the store first, and wait
 * for them when the store cannot be read at that moment, rather than skip them.
 */
class HubLateStatesTest {

  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private final InMemoryJobStore shared = new InMemoryJobStore();
  private final FaultyJobStore watcherStore = new FaultyJobStore(shared);
  private final HandFedBroker handFed = new HandFedBroker();
  private final Hub writer =
      Hub.builder().store(shared).retentionSweepInterval(Duration.ZERO).build();
  private final Hub watcher =
      Hub.builder()
          .store(watcherStore)
          .broker(handFed)
          .retentionSweepInterval(Duration.ZERO)
          .build();

  @AfterEach
  void closeHubs() {
    watcher.close();
    writer.close();
  }

  @Test
  void aSubscriberWhoseMissedStatesCannotBeReadGetsThemOnceTheStoreAnswersInsteadOfSkipping() {
    writer.create(NewJob.builder().id("job-1").build());
    RecordingSubscriber subscriber = new RecordingSubscriber();
    watcher.subscribe("job-1", OptionalLong.empty(), subscriber);
    writer.publish("job-1", JobUpdate.builder().stage("download").build());
    Job third = writer.publish("job-1", JobUpdate.builder().stage("encode").build());

    watcherStore.failReads(true);
    handFed.deliver(new HubEvent.JobUpdated(third, HubEvent.Change.STATUS));
    assertThat(subscriber.seqs()).as("nothing past a gap it cannot fill").containsExactly(1L);

    watcherStore.failReads(false);
    await().atMost(PATIENCE).until(() -> subscriber.seqs().equals(List.of(1L, 2L, 3L)));
  }

  @Test
  void aSubscriberGetsTheStatesItMissedFromTheStoreBeforeALaterOne() {
    writer.create(NewJob.builder().id("job-1").build());
    RecordingSubscriber subscriber = new RecordingSubscriber();
    watcher.subscribe("job-1", OptionalLong.empty(), subscriber);
    writer.publish("job-1", JobUpdate.builder().stage("download").build());
    Job third = writer.publish("job-1", JobUpdate.builder().stage("encode").build());

    handFed.deliver(new HubEvent.JobUpdated(third, HubEvent.Change.STATUS));

    assertThat(subscriber.seqs()).containsExactly(1L, 2L, 3L);
  }

  /** A broker whose deliveries the test makes, on its own thread. */
  private static final class HandFedBroker implements Broker {
    private Consumer<HubEvent> receiver;

    void deliver(HubEvent event) {
      receiver.accept(event);
    }

    @Override
    public void publish(HubEvent event) {}

    @Override
    public void subscribe(Consumer<HubEvent> receiver) {
      this.receiver = receiver;
    }

    @Override
    public void close() {}
  }
}
