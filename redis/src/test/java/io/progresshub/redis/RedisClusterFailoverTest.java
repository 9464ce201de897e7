package io.progresshub.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two hubs on a real Redis Cluster of three masters, each with a replica: a deployment's keys may
 * live on any master, and when that master dies its replica takes over without a hub restarting.
 */
class RedisClusterFailoverTest {

  @RegisterExtension static final RedisClusterServers CLUSTER = new RedisClusterServers(1);

  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private final List<AutoCloseable> opened = new ArrayList<>();
  private final Map<Hub, RedisBroker> brokers = new HashMap<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : opened.reversed()) {
      closeable.close();
    }
  }

  @Test
  void whicheverMasterHoldsTheDeploymentEveryTickReachesTheOtherHubLive() {
    for (RedisClusterServers.Node master : CLUSTER.currentMasters()) {
      String prefix = CLUSTER.freshPrefixOn(master);
      Hub writer = hub(prefix, "writer");
      Hub watcher = hub(prefix, "watcher");
      writer.create(NewJob.builder().id("job-1").build());
      List<Long> seen = Collections.synchronizedList(new ArrayList<>());
      watch(watcher, seen);

      for (int i = 1; i <= 20; i++) {
        writer.publish("job-1", JobUpdate.builder().progress(i).build());
      }

      // Every tick arrives live: a repair from the store would find only the latest one.
      await().atMost(PATIENCE).until(() -> !seen.isEmpty() && seen.getLast() == 21);
      assertThat(seen)
          .as("master on port %d", master.port())
          .containsExactlyElementsOf(seqs(1, 21));
    }
  }

  @Test
  void whenTheMasterOfTheDeploymentDiesItsReplicaTakesOverAndBothHubsGoOn() throws Exception {
    RedisClusterServers.Node master = CLUSTER.currentMasters().get(0);
    String prefix = CLUSTER.freshPrefixOn(master);
    Hub writer = hub(prefix, "writer");
    Hub watcher = hub(prefix, "watcher");
    writer.create(NewJob.builder().id("job-1").build());
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    watch(watcher, seen);
    for (int i = 1; i <= 5; i++) {
      writer.publish("job-1", JobUpdate.builder().progress(i).build());
    }
    await().atMost(PATIENCE).until(() -> seen.contains(6L));
    // Replication is asynchronous: this test is about the failover, not about that window.
    master.ask(connection -> Long.toString(connection.sync().waitForReplication(1, 5000)));

    master.kill();
    try {
      goesOnAfterTheFailover(prefix, master, writer, watcher, seen);
    } finally {
      // The killed node comes back as a replica of the new master, as an operator restarts it.
      master.start();
      CLUSTER.awaitHealthy();
    }
  }

  private static void goesOnAfterTheFailover(
      String prefix, RedisClusterServers.Node master, Hub writer, Hub watcher, List<Long> seen)
      throws InterruptedException {

    // While no master holds the slot a producer is refused at once, never left waiting.
    HubException refused = null;
    try {
      writer.publish("job-1", JobUpdate.builder().progress(50).build());
    } catch (HubException e) {
      refused = e;
    }
    assertThat(refused).isNotNull();
    assertThat(refused.reason()).isEqualTo(HubException.Code.STORE_UNAVAILABLE);

    RedisClusterServers.Node promoted = CLUSTER.awaitFailover(prefix, master);
    assertThat(promoted).isNotSameAs(master);

    // Both hubs write again once their clients follow the new topology.
    Job fromWriter = publishUntilAccepted(writer, 60);
    Job fromWatcherSide = publishUntilAccepted(watcher, 61);
    assertThat(fromWatcherSide.seq()).isEqualTo(fromWriter.seq() + 1);
    await().atMost(PATIENCE).until(() -> seen.contains(fromWatcherSide.seq()));
    // The watcher's node subscribes to the job's channel on the new master: ticks written through
    // the other hub reach it live again, every one of them.
    long firstLive = 0;
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (firstLive == 0 && System.nanoTime() < deadline) {
      long seq = writer.publish("job-1", JobUpdate.builder().progress(62).build()).seq();
      Thread.sleep(100);
      if (seen.contains(seq)) {
        firstLive = seq;
      }
    }
    assertThat(firstLive).as("a tick written through the other hub arrived live").isPositive();
    for (int i = 1; i <= 10; i++) {
      writer.publish("job-1", JobUpdate.builder().progress(70 + i).build());
    }
    long last = firstLive + 10;
    await().atMost(PATIENCE).until(() -> seen.contains(last));
    assertThat(seen).doesNotHaveDuplicates().isSorted();
    assertThat(seen)
        .startsWith(seqs(1, 6).toArray(Long[]::new))
        .endsWith(seqs(firstLive, last).toArray(Long[]::new));
    assertThat(watcher.get("job-1").seq()).isEqualTo(last);
  }

  /** Subscribes to job-1 and waits until its node hears the job's ticks live. */
  private void watch(Hub watcher, List<Long> seen) {
    watcher.subscribe("job-1", OptionalLong.empty(), new SeqRecorder(seen));
    RedisBroker broker = brokers.get(watcher);
    await().atMost(PATIENCE).until(() -> seen.contains(1L) && broker.listening("job-1"));
  }

  /**
   * The replica is frozen while the producer goes on, then the master dies: without waiting for the
   * replica, the events acknowledged meanwhile would be missing from the promoted replica.
   */
  @Test
  void withOneReplicaWaitedForNoAcknowledgedEventIsLostWhenTheMasterDiesAheadOfItsReplica()
      throws Exception {
    RedisClusterServers.Node master = CLUSTER.currentMasters().get(1);
    RedisClusterServers.Node replica = CLUSTER.replicaOf(master);
    String prefix = CLUSTER.freshPrefixOn(master);
    RedisSettings settings =
        RedisSettings.builder(CLUSTER.uri())
            .keyPrefix(prefix)
            .nodeId("writer")
            .commandTimeout(Duration.ofSeconds(1))
            .replicas(1)
            .build();
    Hub writer =
        Hub.builder()
            .store(RedisJobStore.open(settings))
            .broker(RedisBroker.open(settings))
            .retentionSweepInterval(Duration.ZERO)
            .build();
    opened.add(writer);
    writer.create(NewJob.builder().id("job-1").build());
    AtomicLong lastAcknowledged = new AtomicLong(1);
    AtomicLong refused = new AtomicLong();
    Thread producer =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < 100_000 && !Thread.currentThread().isInterrupted(); i++) {
                    try {
                      lastAcknowledged.set(
                          writer
                              .publish("job-1", JobUpdate.builder().progress(i % 100).build())
                              .seq());
                    } catch (HubException e) {
                      refused.incrementAndGet(); // not acknowledged: the producer would retry
                    }
                  }
                });
    await().atMost(PATIENCE).until(() -> lastAcknowledged.get() >= 100);
    replica.freeze(true);
    try {
      Thread.sleep(2000); // the producer goes on against a master whose replica hears nothing
      master.kill();
    } finally {
      replica.freeze(false);
    }
    try {
      CLUSTER.awaitFailover(prefix, master);
      producer.interrupt();
      producer.join(PATIENCE.toMillis());
      long acknowledged = lastAcknowledged.get();
      assertThat(refused.get()).as("appends the frozen replica did not confirm").isPositive();
      try (RedisJobStore reader = RedisJobStore.open(CLUSTER.settings(prefix, "reader"))) {
        // A client new to the cluster may first be told of the dead master: read until it learns.
        long stored =
            await()
                .atMost(PATIENCE)
                .ignoreExceptions()
                .until(() -> reader.find("job-1").orElseThrow().seq(), seq -> true);
        assertThat(stored)
            .as("the promoted replica holds every acknowledged event")
            .isGreaterThanOrEqualTo(acknowledged);
      }
    } finally {
      producer.interrupt();
      master.start();
      CLUSTER.awaitHealthy();
    }
  }

  @Test
  void anAppendNoReplicaConfirmsInTimeFailsAsUnavailableAndItsRetryGetsTheResult() {
    String prefix = RedisServer.freshPrefix();
    RedisClusterServers.Node master = CLUSTER.masterOf(prefix);
    RedisSettings settings =
        RedisSettings.builder(CLUSTER.uri())
            .keyPrefix(prefix)
            .nodeId("writer")
            .commandTimeout(Duration.ofMillis(500))
            .replicas(2) // each master has one
            .build();
    try (RedisJobStore store = RedisJobStore.open(settings)) {
      Job created =
          io.progresshub.core.JobRules.created(
              NewJob.builder().build(), "job-1", java.time.Instant.now());
      var event =
          new io.progresshub.core.spi.StoredEvent(created, true, java.util.Optional.of("e-1"));
      assertThatThrownBy(() -> store.append(event).join())
          .hasCauseInstanceOf(HubException.class)
          .hasMessageContaining("of the 2 replicas asked for confirmed it in time");
      // It landed on the master (and its replica) all the same, and a producer's retry with its
      // event id is answered with it (as the hub does, through findByEventId).
      assertThat(store.find("job-1")).contains(created);
      assertThat(store.findByEventId("job-1", "e-1")).contains(created);
    }
    assertThat(master.alive()).isTrue();
  }

  /** Publishes until the store takes it again (refused meanwhile with store_unavailable). */
  private static Job publishUntilAccepted(Hub hub, double progress) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    HubException last = null;
    while (System.nanoTime() < deadline) {
      try {
        return hub.publish("job-1", JobUpdate.builder().progress(progress).build());
      } catch (HubException e) {
        assertThat(e.reason()).isEqualTo(HubException.Code.STORE_UNAVAILABLE);
        last = e;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("the store did not take events again after the failover", last);
  }

  private static List<Long> seqs(long from, long to) {
    List<Long> seqs = new ArrayList<>();
    for (long seq = from; seq <= to; seq++) {
      seqs.add(seq);
    }
    return seqs;
  }

  private Hub hub(String prefix, String nodeId) {
    RedisBroker broker = RedisBroker.open(CLUSTER.settings(prefix, nodeId));
    Hub hub =
        Hub.builder()
            .store(RedisJobStore.open(CLUSTER.settings(prefix, nodeId)))
            .broker(broker)
            .retentionSweepInterval(Duration.ZERO)
            .build();
    opened.add(hub);
    brokers.put(hub, broker);
    return hub;
  }
}
