package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.HubMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HubMetricsTest {

  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private final RecordingMetrics metrics = new RecordingMetrics();
  private final List<Hub> hubs = new ArrayList<>();

  @AfterEach
  void closeHubs() {
    hubs.forEach(Hub::close);
  }

  @Test
  void everyStoredEventIsReportedAsATransitionOrATickWithTheTimeTheStoreTook() {
    Hub hub = hub(Hub.builder());

    hub.create(NewJob.builder().id("job-1").build());
    hub.lifecycle("job-1").markStarted();
    hub.lifecycle("job-1").markProgress(40, "chunk 4/10");

    assertThat(metrics.stored).containsExactly(true, true, false);
    assertThat(metrics.storeNanos).allMatch(nanos -> nanos >= 0);
  }

  @Test
  void aJobReachingATerminalStatusIsReportedOnceWithItsFinalState() {
    Hub hub = hub(Hub.builder());
    hub.create(NewJob.builder().id("job-1").type("captions").build());
    hub.lifecycle("job-1").markStarted();
    hub.lifecycle("job-1").markProgress(40, "chunk 4/10");
    assertThat(metrics.finished).isEmpty();

    hub.lifecycle("job-1").markCompleted("done");

    assertThat(metrics.finished)
        .singleElement()
        .satisfies(
            job -> {
              assertThat(job.type()).isEqualTo("captions");
              assertThat(job.status()).isEqualTo(JobStatus.COMPLETED);
              assertThat(job.elapsedSeconds()).isPresent();
            });
  }

  @Test
  void refusedEventsAreReportedWithTheirReason() {
    Hub hub = hub(Hub.builder());
    hub.create(NewJob.builder().id("job-1").build());
    hub.lifecycle("job-1").markStarted();
    hub.lifecycle("job-1").markCompleted("done");

    assertThatThrownBy(() -> hub.lifecycle("job-1").markStarted()).isInstanceOf(HubException.class);
    assertThatThrownBy(() -> hub.create(NewJob.builder().id("job-1").build()))
        .isInstanceOf(HubException.class);

    assertThat(metrics.refused)
        .containsExactly(HubException.Code.JOB_FINISHED, HubException.Code.JOB_EXISTS);
  }

  @Test
  void eachBroadcastStateReportsHowManyOfTheHubsSubscribersItWasHandedTo() {
    Hub hub = hub(Hub.builder());
    hub.create(NewJob.builder().id("job-1").build());
    hub.subscribe("job-1", OptionalLong.empty(), new RecordingSubscriber());
    hub.subscribe("job-1", OptionalLong.empty(), new RecordingSubscriber());

    hub.lifecycle("job-1").markStarted();

    await().atMost(PATIENCE).until(() -> metrics.fannedOut.contains(2));
  }

  @Test
  void anEventThatLostTheRaceForItsSeqToAnotherHubIsReportedAsRetried() {
    InMemoryJobStore store = new InMemoryJobStore();
    // This hub hears nothing from the other, so its cached state stays behind the store.
    Hub behind = hub(Hub.builder().store(store).broker(new DeafBroker()));
    RecordingMetrics other = new RecordingMetrics();
    Hub ahead =
        Hub.builder()
            .store(store)
            .broker(new DeafBroker())
            .metrics(other)
            .retentionSweepInterval(Duration.ZERO)
            .build();
    hubs.add(ahead);
    behind.create(NewJob.builder().id("job-1").build());
    ahead.publish("job-1", JobUpdate.builder().stage("download").build());

    Job landed = behind.publish("job-1", JobUpdate.builder().stage("encode").build());

    assertThat(landed.seq()).isEqualTo(3);
    assertThat(metrics.staleSeqRetries).hasValue(1);
    assertThat(other.staleSeqRetries).hasValue(0);
    assertThat(metrics.refused).isEmpty();
  }

  private Hub hub(Hub.Builder builder) {
    Hub hub = builder.metrics(metrics).retentionSweepInterval(Duration.ZERO).build();
    hubs.add(hub);
    return hub;
  }

  /** A broker that carries nothing, and closes nothing that is shared. */
  private static final class DeafBroker implements Broker {
    @Override
    public void publish(HubEvent event) {}

    @Override
    public void subscribe(Consumer<HubEvent> receiver) {}

    @Override
    public void close() {}
  }

  private static final class RecordingMetrics implements HubMetrics {
    final List<Boolean> stored = Collections.synchronizedList(new ArrayList<>());
    final List<Long> storeNanos = Collections.synchronizedList(new ArrayList<>());
    final List<HubException.Code> refused = Collections.synchronizedList(new ArrayList<>());
    final List<Integer> fannedOut = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger staleSeqRetries = new AtomicInteger();
    final AtomicInteger backfilled = new AtomicInteger();
    final List<Job> finished = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void eventStored(boolean transition, long nanos) {
      stored.add(transition);
      storeNanos.add(nanos);
    }

    @Override
    public void eventRefused(HubException.Code reason) {
      refused.add(reason);
    }

    @Override
    public void staleSeqRetried() {
      staleSeqRetries.incrementAndGet();
    }

    @Override
    public void fannedOut(int subscribers) {
      fannedOut.add(subscribers);
    }

    @Override
    public void backfilled(int states) {
      backfilled.addAndGet(states);
    }

    @Override
    public void jobFinished(Job job) {
      finished.add(job);
    }
  }
}
