package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the hub promises when its store fails a write (review F4). */
class HubStoreFaultsTest {

  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T12:00:00Z"));
  private final FaultyJobStore store = new FaultyJobStore(new InMemoryJobStore());
  private final Hub hub =
      Hub.builder().store(store).clock(clock).retentionSweepInterval(Duration.ZERO).build();

  @AfterEach
  void closeHub() {
    hub.close();
  }

  @Test
  void
      aFailedWriteFollowedByPipelinedWritesToTheSameJobLeavesNoSeqGapAndAppliesNothingReportedFailed()
          throws Exception {
    hub.create(NewJob.builder().id("job-1").build());
    hub.publish("job-1", stage("download").build());
    RecordingSubscriber subscriber = new RecordingSubscriber();
    hub.subscribe("job-1", OptionalLong.empty(), subscriber);

    store.hold();
    store.failOnce("job-1", 3);
    CompletableFuture<Job> third =
        hub.publishAsync("job-1", stage("transcribe").eventId("e3").build());
    CompletableFuture<Job> fourth =
        hub.publishAsync("job-1", stage("encode").eventId("e4").build());
    store.release();

    assertUnavailable(third);
    // Seq 4 was computed on top of the failed seq 3: storing it would hide 3's changes inside 4
    // after telling 3's producer it failed, and leave a hole in the history.
    assertUnavailable(fourth);
    assertThat(hub.get("job-1").seq()).isEqualTo(2);
    assertThat(hub.get("job-1").stage()).contains("download");
    assertThat(hub.history("job-1", 0, 10)).extracting(Job::seq).containsExactly(1L, 2L);

    // The producers retry with their event ids: each change lands once, in order, with no gap.
    Job retried3 = hub.publish("job-1", stage("transcribe").eventId("e3").build());
    Job retried3Again = hub.publish("job-1", stage("transcribe").eventId("e3").build());
    Job retried4 = hub.publish("job-1", stage("encode").eventId("e4").build());

    assertThat(retried3.seq()).isEqualTo(3);
    assertThat(retried3Again).isEqualTo(retried3);
    assertThat(retried4.seq()).isEqualTo(4);
    assertThat(hub.history("job-1", 0, 10))
        .extracting(job -> job.seq() + ":" + job.stage().orElse(""))
        .containsExactly("1:", "2:download", "3:transcribe", "4:encode");
    await().atMost(PATIENCE).until(() -> subscriber.lastSeq() == 4);
    assertThat(subscriber.seqs()).containsExactly(2L, 3L, 4L); // the failed ones never went out
    assertThat(subscriber.violations()).isEmpty();
  }

  @Test
  void aProducerThatReloadsTheJobWhileAPipelinedWriteIsInFlightGetsTheNextSeqAndNoOtherLands()
      throws Exception {
    hub.create(NewJob.builder().id("job-1").build());
    hub.publish("job-1", stage("download").build());

    store.hold();
    store.failOnce("job-1", 3);
    CompletableFuture<Job> third =
        hub.publishAsync("job-1", stage("transcribe").eventId("e3").build());
    CompletableFuture<Job> fourth =
        hub.publishAsync("job-1", stage("encode").eventId("e4").build());
    assertThat(store.releaseOne()).isTrue(); // seq 3 fails; seq 4 is still in flight
    assertUnavailable(third);
    // A third producer finds the job reloaded from the store at seq 2 and builds its seq 3.
    CompletableFuture<Job> other = hub.publishAsync("job-1", stage("upload").eventId("o3").build());
    store.release();

    assertUnavailable(fourth);
    assertThat(other.get(PATIENCE.toSeconds(), TimeUnit.SECONDS).seq()).isEqualTo(3);
    assertThat(hub.get("job-1").stage()).contains("upload");
    assertThat(hub.history("job-1", 0, 10))
        .extracting(job -> job.seq() + ":" + job.stage().orElse(""))
        .containsExactly("1:", "2:download", "3:upload");
  }

  private static JobUpdate.Builder stage(String stage) {
    return JobUpdate.builder().stage(stage);
  }

  private static void assertUnavailable(CompletableFuture<Job> future)
      throws InterruptedException, TimeoutException {
    try {
      Job landed = future.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      throw new AssertionError("expected store_unavailable, but seq " + landed.seq() + " landed");
    } catch (ExecutionException e) {
      assertThat(e.getCause())
          .isInstanceOfSatisfying(
              HubException.class,
              failure -> {
                assertThat(failure.kind()).isEqualTo(HubException.Kind.UNAVAILABLE);
                assertThat(failure.code()).isEqualTo("store_unavailable");
              });
    }
  }
}
