package io.progresshub.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Hub;
import io.progresshub.core.HubEvent;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.core.spi.StoredEvent;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis killed, frozen, or out of one node's reach: callers are answered in time, nothing is lost.
 */
class RedisOutageTest {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  /** Thread scheduling and the reconnect on a loaded machine, on top of the command timeout. */
  private static final Duration SLACK = Duration.ofSeconds(2);

  private final String prefix = RedisServer.freshPrefix();
  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : opened.reversed()) {
      closeable.close();
    }
  }

  @Test
  void appendsFailAsUnavailableInTimeWhenRedisIsKilledAndEveryAcknowledgedOneSurvivesTheRestart()
      throws Exception {
    RedisJobStore store = store("node-a");
    Job job =
        JobRules.created(NewJob.builder().build(), "job-1", Instant.parse("2026-03-01T09:00:00Z"));
    store.append(new StoredEvent(job, true, Optional.empty())).join();
    List<Long> acknowledged = new ArrayList<>(List.of(1L));
    Throwable failure = null;
    long killedAt = 0;
    long failedAt = 0;
    for (int i = 0; i < 10_000 && failure == null; i++) {
      if (i == 200) {
        killedAt = System.nanoTime();
        REDIS.kill();
      }
      Job next = JobRules.apply(job, JobUpdate.builder().stage("s-" + i).build(), Instant.now());
      try {
        store.append(new StoredEvent(next, true, Optional.empty())).join();
        acknowledged.add(next.seq());
        job = next;
      } catch (CompletionException e) {
        failure = e.getCause();
        failedAt = System.nanoTime();
      }
    }

    assertUnavailable(failure);
    assertThat(Duration.ofNanos(failedAt - killedAt)).isLessThan(TIMEOUT.plus(SLACK));
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(200);

    REDIS.start();
    RedisJobStore restarted = store("node-b");
    List<Long> stored = restarted.history("job-1", 0, 100_000).stream().map(Job::seq).toList();
    assertThat(stored).containsAll(acknowledged);
    assertThat(restarted.find("job-1").orElseThrow().seq())
        .isGreaterThanOrEqualTo(acknowledged.getLast());
    // The first store reconnects by itself.
    Job latest = restarted.find("job-1").orElseThrow();
    Job after = JobRules.apply(latest, JobUpdate.builder().stage("after").build(), Instant.now());
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              store.append(new StoredEvent(after, true, Optional.empty())).join();
              return true;
            });
    assertThat(restarted.find("job-1")).contains(after);
  }

  @Test
  void aFrozenRedisFailsAppendsAndReadsWithinTheTimeoutInsteadOfHangingThem() throws Exception {
    RedisJobStore store = store("node-a");
    Job job =
        JobRules.created(NewJob.builder().build(), "job-1", Instant.parse("2026-03-01T09:00:00Z"));
    store.append(new StoredEvent(job, true, Optional.empty())).join();
    Job next = JobRules.apply(job, JobUpdate.builder().stage("frozen").build(), Instant.now());

    REDIS.freeze(true);
    try {
      long started = System.nanoTime();
      Throwable appendFailure =
          catchThrowable(
              () ->
                  store
                      .append(new StoredEvent(next, true, Optional.empty()))
                      .get(30, TimeUnit.SECONDS));
      Duration appendTook = Duration.ofNanos(System.nanoTime() - started);
      started = System.nanoTime();
      Throwable readFailure = catchThrowable(() -> store.find("job-1"));
      Duration readTook = Duration.ofNanos(System.nanoTime() - started);

      assertUnavailable(appendFailure.getCause());
      assertThat(appendTook).isLessThan(TIMEOUT.plus(SLACK));
      assertUnavailable(readFailure);
      assertThat(readTook).isLessThan(TIMEOUT.plus(SLACK));
    } finally {
      REDIS.freeze(false);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> store.find("job-1").isPresent());
  }

  @Test
  void aNodeWhoseSubscriptionsDroppedGivesItsSubscribersWhatTheyMissedOnceItIsBack()
      throws Exception {
    Hub writer = hub(REDIS.settings(prefix, "node-a"), REDIS.settings(prefix, "node-a"));
    TcpProxy proxy = proxy();
    Hub watcher = hubWithBrokerThrough(proxy, "node-b");
    writer.create(NewJob.builder().id("job-1").build());
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    watcher.subscribe("job-1", OptionalLong.empty(), new SeqRecorder(seen));
    writer.publish("job-1", JobUpdate.builder().progress(1).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains(2L));

    proxy.cut();
    for (int i = 2; i <= 5; i++) {
      writer.publish("job-1", JobUpdate.builder().progress(i).build());
    }
    writer.publish("job-1", JobUpdate.builder().stage("while-cut").build());
    // Nothing reaches the watcher while its subscriptions are down.
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> seen.getLast() == 2L);
    proxy.restore();

    await().atMost(Duration.ofSeconds(60)).until(() -> seen.getLast() == 7L);
    assertThat(seen).isSorted().doesNotHaveDuplicates();
  }

  /**
   * Creations, status changes and removals of jobs a node does not watch reach its monitors (its
   * hub's observers) even when they went out while its subscriptions were down: it reads them back
   * from the lifecycle log, once each, in order.
   */
  @Test
  void aNodeWhoseSubscriptionsDroppedReadsBackTheLifecycleEventsItMissed() throws Exception {
    Hub writer = hub(REDIS.settings(prefix, "node-a"), REDIS.settings(prefix, "node-a"));
    TcpProxy proxy = proxy();
    Hub monitored = hubWithBrokerThrough(proxy, "node-b");
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    monitored.observe(
        event ->
            seen.add(
                switch (event) {
                  case HubEvent.JobUpdated updated ->
                      updated.change() + " " + event.jobId() + " " + updated.job().seq();
                  case HubEvent.JobRemoved removed -> "REMOVED " + event.jobId();
                }));
    writer.create(NewJob.builder().id("before").build());
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("CREATED before 1"));

    proxy.cut();
    writer.create(NewJob.builder().id("while-cut").build());
    writer.publish("while-cut", JobUpdate.builder().status(JobStatus.IN_PROGRESS).build());
    writer.publish("while-cut", JobUpdate.builder().progress(50).build()); // a tick: not logged
    writer.publish("while-cut", JobUpdate.builder().status(JobStatus.COMPLETED).build());
    writer.delete("before");
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> seen.size() == 1);
    proxy.restore();

    await().atMost(Duration.ofSeconds(60)).until(() -> seen.contains("REMOVED before"));
    assertThat(seen)
        .containsExactly(
            "CREATED before 1",
            "CREATED while-cut 1",
            "STATUS while-cut 2",
            "STATUS while-cut 4",
            "REMOVED before");
    // And live again afterwards, not twice.
    writer.create(NewJob.builder().id("after").build());
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("CREATED after 1"));
    assertThat(seen).doesNotHaveDuplicates().hasSize(6);
  }

  private static void assertUnavailable(Throwable failure) {
    assertThat(failure)
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("store_unavailable"));
  }

  private TcpProxy proxy() throws IOException {
    TcpProxy proxy = new TcpProxy(REDIS.port());
    opened.add(proxy);
    return proxy;
  }

  /** A node whose store reaches Redis directly and whose broker goes through {@code proxy}. */
  private Hub hubWithBrokerThrough(TcpProxy proxy, String nodeId) {
    RedisSettings throughProxy =
        RedisSettings.builder("redis://127.0.0.1:" + proxy.port())
            .keyPrefix(prefix)
            .nodeId(nodeId)
            .commandTimeout(TIMEOUT)
            .build();
    return hub(REDIS.settings(prefix, nodeId), throughProxy);
  }

  private RedisJobStore store(String nodeId) {
    RedisJobStore store =
        RedisJobStore.open(
            RedisSettings.builder(REDIS.uri())
                .keyPrefix(prefix)
                .nodeId(nodeId)
                .commandTimeout(TIMEOUT)
                .build());
    opened.add(store);
    return store;
  }

  private Hub hub(RedisSettings storeSettings, RedisSettings brokerSettings) {
    Hub hub =
        Hub.builder()
            .store(RedisJobStore.open(storeSettings))
            .broker(RedisBroker.open(brokerSettings))
            .retentionSweepInterval(Duration.ZERO)
            .build();
    opened.add(hub);
    return hub;
  }
}
