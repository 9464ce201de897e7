package io.progresshub.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Role;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.JobState;
import io.progresshub.protocol.RetryHint;
import io.progresshub.protocol.ServerMessage;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressSubscriberTest {
  private static final Backoff QUICK = new Backoff(Duration.ofMillis(50), Duration.ofMillis(500));

  @TempDir Path dataDir;
  TestHub hub;
  ProgressSubscriber subscriber;

  @AfterEach
  void stop() {
    if (subscriber != null) {
      subscriber.close();
    }
    if (hub != null) {
      hub.close();
    }
  }

  private ProgressSubscriber.Builder subscriber() {
    return ProgressSubscriber.builder(hub.url())
        .token(hub.token("admin", Role.ADMIN, Duration.ofHours(1)))
        .backoff(QUICK);
  }

  @Test
  void aWatchGetsEveryStateInSeqOrderUntilTheTerminalOne() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    subscriber = subscriber().build();
    Recorder recorder = new Recorder();
    CompletableFuture<JobState> terminal = subscriber.watch(id, recorder);
    await().until(() -> !recorder.states.isEmpty());

    publisher.progress(id, 10, "download", null);
    publisher.progress(id, 60, "encode", null);
    publisher.complete(id, "done");

    JobState last = terminal.get(10, TimeUnit.SECONDS);
    assertThat(last.status()).isEqualTo("completed");
    assertThat(recorder.seqs()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(recorder.stages()).containsSubsequence("download", "encode");
  }

  @Test
  void aServerRestartMidJobLosesNoStateAndTheWatchEndsWithTheFinalOne() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    publisher.progress(id, 10, "download", null);
    AtomicInteger connects = new AtomicInteger();
    subscriber =
        subscriber()
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onConnected() {
                    connects.incrementAndGet();
                  }
                })
            .build();
    Recorder recorder = new Recorder();
    CompletableFuture<JobState> terminal = subscriber.watch(id, recorder);
    await().until(() -> recorder.seqs().contains(2L));

    hub.stop();
    hub.restart();
    // Published while the subscriber may still be away: the resume with since replays them.
    publisher.progress(id, 40, "transcribe", null);
    publisher.progress(id, 70, "translate", null);
    publisher.complete(id, "captions.vtt");

    JobState last = terminal.get(20, TimeUnit.SECONDS);
    assertThat(last.status()).isEqualTo("completed");
    assertThat(last.result()).contains("captions.vtt");
    assertThat(connects.get()).isGreaterThanOrEqualTo(2);
    assertThat(recorder.seqs()).isSorted().doesNotHaveDuplicates();
    assertThat(recorder.stages()).containsSubsequence("download", "transcribe", "translate");
  }

  @Test
  void aJobThatDoesNotExistEndsItsWatchWithJobNotFound() {
    hub = TestHub.start(dataDir);
    subscriber = subscriber().build();
    Recorder recorder = new Recorder();

    CompletableFuture<JobState> terminal = subscriber.watch("no-such-job", recorder);

    await().until(terminal::isDone);
    assertThat(terminal)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            HubApiException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.JOB_NOT_FOUND));
    assertThat(recorder.errors).hasSize(1);
  }

  @Test
  void aRefusedTokenClosesWith4401AndTheSubscriberDoesNotReconnect() {
    hub = TestHub.start(dataDir);
    String id = hub.publisher().create().id();
    AtomicInteger disconnects = new AtomicInteger();
    CompletableFuture<ProgressHubException> failed = new CompletableFuture<>();
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token("not-a-token")
            .backoff(QUICK)
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onDisconnected(int closeCode, String reason, Duration retryIn) {
                    disconnects.incrementAndGet();
                  }

                  @Override
                  public void onFailed(ProgressHubException error) {
                    failed.complete(error);
                  }
                })
            .build();

    CompletableFuture<JobState> terminal = subscriber.watch(id, state -> {});

    assertThat(failed)
        .succeedsWithin(Duration.ofSeconds(10))
        .isInstanceOfSatisfying(
            HubConnectionException.class,
            e -> {
              assertThat(e.closeCode()).hasValue(CloseCode.UNAUTHORIZED.code());
              assertThat(e.code()).contains(ErrorCode.UNAUTHORIZED);
            });
    assertThat(terminal).isCompletedExceptionally();
    assertThat(disconnects.get()).isZero();
  }

  /**
   * A token the server takes for {@code seconds} more: it accepts {@code exp} up to its 30 s clock
   * skew ago, and closes the connection with 4401 when that runs out.
   */
  private String tokenValidFor(int seconds) {
    return hub.token("viewer", Role.ADMIN, Duration.ofSeconds(seconds - 30));
  }

  @Test
  void after4401TheTokenSupplierIsAskedOnceForAFreshTokenAndEveryWatchResumesWithSince()
      throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String first = publisher.create().id();
    String second = publisher.create().id();
    publisher.progress(first, 10, "download", null);
    // The same short-lived token until the server has closed with 4401 (a refresh with it keeps
    // its expiry), then a good one.
    String expiring = tokenValidFor(3);
    CloseCodes closes = new CloseCodes();
    AtomicInteger askedAfter4401 = new AtomicInteger();
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token(
                () -> {
                  if (closes.codes.isEmpty()) {
                    return expiring;
                  }
                  askedAfter4401.incrementAndGet();
                  return hub.token("viewer", Role.ADMIN, Duration.ofHours(1));
                })
            .backoff(QUICK)
            .connectionListener(closes)
            .build();
    Recorder firstStates = new Recorder();
    Recorder secondStates = new Recorder();
    CompletableFuture<JobState> firstDone = subscriber.watch(first, firstStates);
    CompletableFuture<JobState> secondDone = subscriber.watch(second, secondStates);
    await().until(() -> firstStates.seqs().contains(2L) && secondStates.seqs().contains(1L));

    await().atMost(Duration.ofSeconds(15)).until(() -> closes.codes.contains(4401));
    publisher.progress(first, 50, "encode", null);
    publisher.complete(first, "ok");
    publisher.fail(second, "gave up");

    assertThat(firstDone.get(15, TimeUnit.SECONDS).status()).isEqualTo("completed");
    assertThat(secondDone.get(15, TimeUnit.SECONDS).status()).isEqualTo("failed");
    assertThat(closes.codes).containsExactly(4401);
    assertThat(closes.connects.get()).isEqualTo(2);
    assertThat(askedAfter4401.get()).isEqualTo(1);
    assertThat(firstStates.seqs()).containsExactly(2L, 3L, 4L);
    assertThat(secondStates.seqs()).containsExactly(1L, 2L);
  }

  @Test
  void aFreshTokenRefusedAgainEndsEveryWatchWithHubConnectionException() {
    hub = TestHub.start(dataDir);
    String id = hub.publisher().create().id();
    String expiring = tokenValidFor(3); // the supplier has nothing newer to give
    AtomicInteger asked = new AtomicInteger();
    CloseCodes closes = new CloseCodes();
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token(
                () -> {
                  asked.incrementAndGet();
                  return expiring;
                })
            .backoff(QUICK)
            .connectionListener(closes)
            .build();
    Recorder recorder = new Recorder();

    CompletableFuture<JobState> terminal = subscriber.watch(id, recorder);

    assertThat(closes.failed)
        .succeedsWithin(Duration.ofSeconds(15))
        .isInstanceOfSatisfying(
            HubConnectionException.class,
            e -> assertThat(e.closeCode()).hasValue(CloseCode.UNAUTHORIZED.code()));
    assertThat(terminal).isCompletedExceptionally();
    assertThat(recorder.seqs()).containsExactly(1L);
    assertThat(closes.codes).as("one reconnect, after the first 4401").containsExactly(4401);
    assertThat(closes.connects.get()).isEqualTo(1);
  }

  @Test
  void aFixedTokenThatExpiresEndsEveryWatchWithHubConnectionException() {
    hub = TestHub.start(dataDir);
    String id = hub.publisher().create().id();
    CloseCodes closes = new CloseCodes();
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token(tokenValidFor(2))
            .backoff(QUICK)
            .connectionListener(closes)
            .build();
    Recorder recorder = new Recorder();

    CompletableFuture<JobState> terminal = subscriber.watch(id, recorder);

    assertThat(closes.failed)
        .succeedsWithin(Duration.ofSeconds(15))
        .isInstanceOfSatisfying(
            HubConnectionException.class,
            e -> assertThat(e.closeCode()).hasValue(CloseCode.UNAUTHORIZED.code()));
    assertThat(terminal).isCompletedExceptionally();
    assertThat(recorder.seqs()).containsExactly(1L);
    assertThat(closes.codes).isEmpty();
  }

  @Test
  void aJobDeletedWhileWatchedEndsItsWatchWithJobNotFoundAndOtherWatchesGoOn() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String deleted = publisher.create().id();
    String kept = publisher.create().id();
    CloseCodes closes = new CloseCodes();
    subscriber = subscriber().connectionListener(closes).build();
    Recorder deletedStates = new Recorder();
    Recorder keptStates = new Recorder();
    CompletableFuture<JobState> deletedDone = subscriber.watch(deleted, deletedStates);
    CompletableFuture<JobState> keptDone = subscriber.watch(kept, keptStates);
    await().until(() -> !deletedStates.states.isEmpty() && !keptStates.states.isEmpty());
    publisher.progress(kept, 20, "before", null);
    await().until(() -> keptStates.seqs().contains(2L));

    hub.delete(deleted);

    assertThat(deletedDone)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            HubApiException.class,
            e -> {
              assertThat(e.errorCode()).isEqualTo(ErrorCode.JOB_NOT_FOUND);
              assertThat(e.getMessage()).contains("deleted while watched", deleted);
            });
    assertThat(deletedStates.errors).hasSize(1);
    publisher.progress(kept, 60, "after", null);
    publisher.complete(kept, "ok");
    assertThat(keptDone.get(10, TimeUnit.SECONDS).status()).isEqualTo("completed");
    assertThat(keptStates.seqs()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(closes.connects.get()).isEqualTo(1);
  }

  @Test
  void awaitTerminalOfAFinishedJobAnswersItsTerminalStateAtOnce() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    publisher.status(id, "in_progress");
    publisher.fail(id, "out of memory");
    subscriber = subscriber().build();

    JobState last = subscriber.awaitTerminal(id, Duration.ofSeconds(10));

    assertThat(last.status()).isEqualTo("failed");
    assertThat(last.error()).contains("out of memory");
  }

  @Test
  void oneConnectionCarriesManyWatchesAndUnsubscribeStopsOne() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String kept = publisher.create().id();
    String dropped = publisher.create().id();
    AtomicInteger connects = new AtomicInteger();
    subscriber =
        subscriber()
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onConnected() {
                    connects.incrementAndGet();
                  }
                })
            .build();
    Recorder keptStates = new Recorder();
    Recorder droppedStates = new Recorder();
    CompletableFuture<JobState> keptTerminal = subscriber.watch(kept, keptStates);
    CompletableFuture<JobState> droppedTerminal = subscriber.watch(dropped, droppedStates);
    await().until(() -> !keptStates.states.isEmpty() && !droppedStates.states.isEmpty());

    subscriber.unsubscribe(dropped);
    await().until(droppedTerminal::isCancelled);
    publisher.progress(dropped, 50, null, null);
    publisher.progress(kept, 50, null, null);
    publisher.complete(kept, 1);

    assertThat(keptTerminal.get(10, TimeUnit.SECONDS).status()).isEqualTo("completed");
    assertThat(droppedStates.seqs()).containsExactly(1L);
    assertThat(connects.get()).isEqualTo(1);
  }

  @Test
  void aFreshTokenIsSentOverTheOpenConnectionBeforeTheOldOneExpires() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    AtomicInteger tokensIssued = new AtomicInteger();
    AtomicInteger connects = new AtomicInteger();
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token(
                () -> {
                  tokensIssued.incrementAndGet();
                  return hub.token("viewer", Role.ADMIN, Duration.ofSeconds(40));
                })
            // The server keeps a connection until exp + 30 s (its clock skew) and says so in
            // expires_at: 40 s tokens refreshed 68 s before that, every 2 s.
            .tokenRefreshMargin(Duration.ofSeconds(68))
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onConnected() {
                    connects.incrementAndGet();
                  }
                })
            .build();
    Recorder recorder = new Recorder();
    subscriber.watch(id, recorder);

    await().atMost(Duration.ofSeconds(15)).until(() -> tokensIssued.get() >= 3);
    publisher.progress(id, 30, null, null);

    await().until(() -> recorder.seqs().contains(2L));
    assertThat(connects.get()).isEqualTo(1);
  }

  @Test
  void aConnectionThatFallsSilentIsReplacedAfterMissedHeartbeats() throws Exception {
    hub = TestHub.start(dataDir, Duration.ofSeconds(1));
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    try (FreezingProxy proxy = new FreezingProxy(hub.port())) {
      AtomicInteger connects = new AtomicInteger();
      subscriber =
          ProgressSubscriber.builder(URI.create("http://127.0.0.1:" + proxy.port()))
              .token(hub.token("admin", Role.ADMIN, Duration.ofHours(1)))
              .backoff(QUICK)
              .connectionListener(
                  new ConnectionListener() {
                    @Override
                    public void onConnected() {
                      connects.incrementAndGet();
                    }
                  })
              .build();
      Recorder recorder = new Recorder();
      CompletableFuture<JobState> terminal = subscriber.watch(id, recorder);
      await().until(() -> !recorder.states.isEmpty());

      proxy.freezeOpenConnections();
      publisher.progress(id, 50, "while-silent", null);
      publisher.complete(id, "ok");

      assertThat(terminal.get(15, TimeUnit.SECONDS).status()).isEqualTo("completed");
      assertThat(connects.get()).isEqualTo(2);
      assertThat(recorder.stages()).contains("while-silent");
    }
  }

  /** Records the connection's comings and goings. */
  @Test
  void after1001WithARetryHintTheSubscriberWaitsAtLeastTheHintBeforeReconnecting()
      throws Exception {
    hub = TestHub.start(dataDir, Duration.ofSeconds(25), Duration.ofSeconds(2));
    ProgressPublisher publisher = hub.publisher();
    String id = publisher.create().id();
    List<String> reasons = new CopyOnWriteArrayList<>();
    List<Duration> retries = new CopyOnWriteArrayList<>();
    List<Long> events = new CopyOnWriteArrayList<>(); // nanoTime of each disconnect and connect
    subscriber =
        ProgressSubscriber.builder(hub.url())
            .token(hub.token("admin", Role.ADMIN, Duration.ofHours(1)))
            .backoff(new Backoff(Duration.ofMillis(10), Duration.ofMillis(50)))
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onConnected() {
                    events.add(System.nanoTime());
                  }

                  @Override
                  public void onDisconnected(int closeCode, String reason, Duration retryIn) {
                    events.add(System.nanoTime());
                    reasons.add(closeCode + " " + reason);
                    retries.add(retryIn);
                  }
                })
            .build();
    Recorder recorder = new Recorder();
    subscriber.watch(id, recorder);
    await().until(() -> recorder.seqs().contains(1L));

    hub.restart();
    publisher.progress(id, 50, "after-restart", null);

    await().atMost(Duration.ofSeconds(15)).until(() -> recorder.seqs().contains(2L));
    assertThat(reasons.get(0)).matches("1001 server shutting down; retry_after_ms=\\d+");
    long hint = RetryHint.retryAfterMillis(reasons.get(0)).orElseThrow();
    assertThat(hint).isBetween(0L, 1999L);
    // the hint plus the back-off's jitter (at most 10 ms for a first retry)
    assertThat(retries.get(0).toMillis()).isBetween(hint, hint + 10);
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(events.getLast() - events.get(1));
    assertThat(waitedMillis)
        .as("reconnected %d ms after the close", waitedMillis)
        .isGreaterThanOrEqualTo(hint);
  }

  @Test
  void aBroadcastReachesTheListenersOfItsJobAloneAndIsNotAState() throws Exception {
    hub = TestHub.start(dataDir);
    ProgressPublisher publisher = hub.publisher();
    String told = publisher.create().id();
    String other = publisher.create().id();
    publisher.progress(told, 10, "download", null);
    subscriber = subscriber().build();
    Recorder toldStates = new Recorder();
    Recorder otherStates = new Recorder();
    CompletableFuture<JobState> toldDone = subscriber.watch(told, toldStates);
    subscriber.watch(other, otherStates);
    try (ProgressSubscriber otherOnly = subscriber().build()) {
      Recorder otherOnlyStates = new Recorder();
      otherOnly.watch(other, otherOnlyStates);
      await()
          .until(
              () ->
                  toldStates.seqs().contains(2L)
                      && !otherStates.states.isEmpty()
                      && !otherOnlyStates.states.isEmpty());

      assertThat(hub.broadcast(told, "{\"data\":{\"notice\":\"maintenance at 10:00\"}}"))
          .isEqualTo("{\"delivered\":1}");
      await().until(() -> !toldStates.broadcasts.isEmpty());
      // It follows the first on every connection: once it is in, a misrouted first one would be.
      assertThat(hub.broadcast(other, "{\"data\":\"only the other job\"}"))
          .isEqualTo("{\"delivered\":2}");
      await()
          .until(() -> !otherStates.broadcasts.isEmpty() && !otherOnlyStates.broadcasts.isEmpty());

      ServerMessage.Broadcast broadcast = toldStates.broadcasts.get(0);
      assertThat(broadcast.jobId()).isEqualTo(told);
      assertThat(broadcast.status()).isEqualTo("in_progress");
      assertThat(broadcast.seq()).isEqualTo(2);
      assertThat(broadcast.data()).isEqualTo(Map.of("notice", "maintenance at 10:00"));
      assertThat(broadcast.timestamp()).isCloseTo(Instant.now(), within(1, ChronoUnit.MINUTES));
      assertThat(toldStates.broadcasts).hasSize(1);
      assertThat(otherStates.broadcasts)
          .singleElement()
          .satisfies(b -> assertThat(b.jobId()).isEqualTo(other))
          .satisfies(b -> assertThat(b.data()).isEqualTo("only the other job"));
      assertThat(otherOnlyStates.broadcasts)
          .singleElement()
          .satisfies(b -> assertThat(b.jobId()).isEqualTo(other));
    }
    assertThat(toldStates.seqs()).as("a broadcast is not a state").containsExactly(2L);
    publisher.complete(told, "ok");
    assertThat(toldDone.get(10, TimeUnit.SECONDS).seq()).isEqualTo(3);
    assertThat(toldStates.seqs()).containsExactly(2L, 3L);
  }

  @Test
  void aBroadcastLeavesOutTheConnectionItExcludes() throws Exception {
    hub = TestHub.start(dataDir);
    String id = hub.publisher().create().id();
    subscriber = subscriber().build();
    Recorder excludedStates = new Recorder();
    subscriber.watch(id, excludedStates);
    try (ProgressSubscriber other = subscriber().build()) {
      Recorder otherStates = new Recorder();
      other.watch(id, otherStates);
      await().until(() -> !excludedStates.states.isEmpty() && !otherStates.states.isEmpty());
      String excluded = subscriber.connectionId().orElseThrow();
      assertThat(other.connectionId()).isPresent().isNotEqualTo(Optional.of(excluded));

      assertThat(hub.broadcast(id, "{\"data\":1,\"exclude\":\"" + excluded + "\"}"))
          .isEqualTo("{\"delivered\":1}");
      await().until(() -> otherStates.broadcasts.size() == 1);
      assertThat(hub.broadcast(id, "{\"data\":2}")).isEqualTo("{\"delivered\":2}");
      await()
          .until(() -> otherStates.broadcasts.size() == 2 && !excludedStates.broadcasts.isEmpty());

      assertThat(otherStates.broadcasts)
          .extracting(ServerMessage.Broadcast::data)
          .containsExactly(1, 2);
      assertThat(excludedStates.broadcasts)
          .extracting(ServerMessage.Broadcast::data)
          .containsExactly(2);
    }
  }

  static final class CloseCodes implements ConnectionListener {
    final List<Integer> codes = new CopyOnWriteArrayList<>();
    final AtomicInteger connects = new AtomicInteger();
    final CompletableFuture<ProgressHubException> failed = new CompletableFuture<>();

    @Override
    public void onConnected() {
      connects.incrementAndGet();
    }

    @Override
    public void onDisconnected(int closeCode, String reason, Duration retryIn) {
      codes.add(closeCode);
    }

    @Override
    public void onFailed(ProgressHubException error) {
      failed.complete(error);
    }
  }

  /** Records what a watch gets. */
  static final class Recorder implements JobListener {
    final List<JobState> states = new CopyOnWriteArrayList<>();
    final List<ProgressHubException> errors = new CopyOnWriteArrayList<>();
    final List<ServerMessage.Broadcast> broadcasts = new CopyOnWriteArrayList<>();

    @Override
    public void onState(JobState state) {
      states.add(state);
    }

    @Override
    public void onBroadcast(ServerMessage.Broadcast broadcast) {
      broadcasts.add(broadcast);
    }

    @Override
    public void onError(ProgressHubException error) {
      errors.add(error);
    }

    List<Long> seqs() {
      return states.stream().map(JobState::seq).toList();
    }

    List<String> stages() {
      return states.stream().map(JobState::stage).flatMap(Optional::stream).toList();
    }
  }
}
