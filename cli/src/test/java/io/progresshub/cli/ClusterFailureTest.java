package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.redis.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three {@code serve} processes on one redis-server, with clients that know every node: producers
 * publish to each node in turn, subscribers are spread over them, and a node or Redis fails in the
 * middle. The failure tests end by checking that each subscriber got seqs exactly 1..N of every
 * job; every test prints one line of what the subscribers saw.
 *
 * <p>The nodes are shared by the tests (a cold JVM takes seconds to start, more on a busy machine);
 * each test has jobs and users of its own. The test that kills a node runs last, and a node found
 * dead is replaced before a test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailureTest {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  /** Short, for the expiry test; the others check the history before they finish their jobs. */
  private static final String RETENTION = "2s";

  private static final int PER_USER_LIMIT = 2;

  private static final AtomicInteger TESTS = new AtomicInteger();

  /** Long enough for a node's Redis clients to reconnect and repair, on a loaded machine. */
  private static final Duration DELIVERY = Duration.ofSeconds(30);

  @TempDir static Path dir;

  private static ClusterNodes cluster;

  private final String prefix = "c" + TESTS.incrementAndGet() + "-";
  private final String producerToken = ServerProcess.token("worker", Role.PUBLISHER);
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<AutoCloseable> opened = new ArrayList<>();
  private final ExecutorService producers = Executors.newVirtualThreadPerTaskExecutor();

  @BeforeAll
  static void startCluster() {
    cluster =
        ClusterNodes.start(
            dir,
            REDIS,
            3,
            "--retention",
            RETENTION,
            "--max-connections-per-user",
            Integer.toString(PER_USER_LIMIT));
  }

  @BeforeEach
  void replaceDeadNodes() {
    cluster.replaceDead();
  }

  @AfterEach
  void closeAll() throws Exception {
    producers.shutdownNow();
    for (AutoCloseable closeable : opened.reversed()) {
      closeable.close();
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void subscribersOnEveryNodeGetEveryTransitionInOrderFromProducersOnEveryNode() throws Exception {
    List<String> jobs = createJobs(4);
    List<ClusterWatcher> watchers = watchers(3, jobs);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);

    int events = 30;
    awaitDone(produce(publisher, jobs, events, Duration.ZERO));
    finishAll(publisher, jobs);

    long last = events + 2;
    awaitEverySeq(watchers, jobs, last);
    assertFinished(watchers, jobs);
    assertThat(watchers).allSatisfy(w -> assertThat(w.reconnects()).isZero());
    summary(
        "three nodes, round-robin publishes",
        watchers,
        publisher,
        "jobs=" + jobs.size() + " seqs=1.." + last + " each");
  }

  @Test
  @Order(2)
  void aRetryWithTheSameEventIdThroughAnotherNodeGetsTheOriginalSeqAndIsDeliveredOnce() {
    List<String> jobs = createJobs(1);
    String job = jobs.getFirst();
    List<ClusterWatcher> watchers = watchers(1, jobs);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);

    String fields = "\"status\":\"in_progress\",\"stage\":\"s-1\"";
    JsonNode original = publisher.publish(0, job, job + ":1", fields, DELIVERY);
    JsonNode viaSecond = publisher.publish(1, job, job + ":1", fields, DELIVERY);
    JsonNode viaThird = publisher.publish(2, job, job + ":1", fields, DELIVERY);
    publisher.publish(1, job, job + ":done", "\"status\":\"completed\"", DELIVERY);

    assertThat(original.path("seq").asLong()).isEqualTo(2);
    assertThat(viaSecond).isEqualTo(original);
    assertThat(viaThird).isEqualTo(original);
    // Seq 2 once, then 3: a second broadcast of the retry would show as a duplicate 2.
    awaitEverySeq(watchers, jobs, 3);
    for (ServerProcess node : cluster.all()) {
      assertThat(
              node.call("GET", "/api/jobs/" + job, producerToken, null, 200).path("seq").asLong())
          .isEqualTo(3);
    }
    summary("same event_id through three nodes", watchers, publisher, "seqs=1..3 each");
  }

  @Test
  @Order(3)
  void aDeleteOrAnExpiryOnOneNodeReachesTheSubscribersOfEveryNode() throws Exception {
    List<String> jobs = createJobs(2);
    String deleted = jobs.get(0);
    String expiring = jobs.get(1);
    List<ClusterWatcher> watchers = watchers(1, jobs);
    await()
        .atMost(DELIVERY)
        .until(() -> watchers.stream().allMatch(ClusterWatcher::subscribedToAll));

    cluster.node(0).call("DELETE", "/api/jobs/" + deleted, producerToken, null, 204);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);
    publisher.publish(1, expiring, expiring + ":1", "\"status\":\"in_progress\"", DELIVERY);
    publisher.publish(2, expiring, expiring + ":done", "\"status\":\"completed\"", DELIVERY);
    long finishedAt = System.nanoTime();

    await("every watcher told of both removals")
        .atMost(DELIVERY)
        .until(() -> watchers.stream().allMatch(w -> removalsSeen(w) == 2));
    Duration expiredAfter = Duration.ofNanos(System.nanoTime() - finishedAt);
    for (ServerProcess node : cluster.all()) {
      for (String job : jobs) {
        assertThat(node.get("/api/jobs/" + job, Optional.of(producerToken)).statusCode())
            .as("GET %s on a node", job)
            .isEqualTo(404);
      }
    }
    for (ClusterWatcher watcher : watchers) {
      assertThat(watcher.notices())
          .extracting(n -> n.path("type").asText() + "/" + n.path("code").asText(""))
          .containsExactly(
              "unsubscribed/", "error/job_not_found", "unsubscribed/", "error/job_not_found");
      assertThat(watcher.latest(expiring).path("status").asText()).isEqualTo("completed");
    }
    summary(
        "delete on node 0, expiry with retention " + RETENTION,
        watchers,
        publisher,
        "removals seen by every watcher, expiry seen after " + expiredAfter.toMillis() + " ms");
  }

  @Test
  @Order(4)
  void theConnectionLimitPerUserCountsOnEachNodeOnItsOwn() {
    String token = ServerProcess.token(prefix + "alice", Role.PUBLISHER);
    List<WsProbe> held = new ArrayList<>();
    try {
      for (int node = 0; node < 2; node++) {
        for (int i = 0; i < PER_USER_LIMIT; i++) {
          WsProbe probe = connect(cluster.node(node).ws("/ws?token=" + token));
          held.add(probe);
          probe.next("connection_established");
        }
      }
      // Each node refuses the user's next one, though the cluster holds twice the limit.
      List<Integer> refusals = new ArrayList<>();
      for (int node = 0; node < 2; node++) {
        try (WsProbe over = connect(cluster.node(node).ws("/ws?token=" + token))) {
          refusals.add(over.awaitClose());
        }
      }
      assertThat(refusals).containsExactly(4429, 4429);
      held.forEach(probe -> assertThat(probe.closeCode).isNotDone());
      System.out.println(
          "[cluster] max-connections-per-user "
              + PER_USER_LIMIT
              + " on each node: one user held "
              + held.size()
              + " WebSockets over 2 nodes; the next on each node closed with "
              + refusals);
    } finally {
      held.forEach(WsProbe::close);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"SIGTERM", "SIGKILL"})
  @Order(5)
  void publishesWhileRedisIsStoppedAndRestartedGet503AndEveryAcknowledgedOneSurvives(String signal)
      throws Exception {
    List<String> jobs = createJobs(2);
    List<ClusterWatcher> watchers = watchers(1, jobs);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);

    int events = 60;
    List<Future<?>> running = produce(publisher, jobs, events, Duration.ofMillis(30));
    await().atMost(DELIVERY).until(() -> publisher.acknowledgedCount() >= jobs.size() * events / 3);
    if (signal.equals("SIGKILL")) {
      REDIS.kill();
    } else {
      REDIS.stop();
    }
    try {
      await("a 503 while Redis is down")
          .atMost(Duration.ofSeconds(10))
          .until(() -> publisher.unavailable() > 0);
      Thread.sleep(2_000); // the outage goes on; producers keep trying
    } finally {
      REDIS.start(); // same port, same AOF
    }
    awaitDone(running);

    assertThat(publisher.unexpected()).isEmpty();
    assertHistoryHoldsEveryAcknowledgedEvent(cluster.node(0), publisher, jobs, events + 1);
    finishAll(publisher, jobs);
    long last = events + 2;
    awaitEverySeq(watchers, jobs, last);
    assertFinished(watchers, jobs);
    assertStayedConnected(watchers);
    summary(
        "redis " + signal + " + restart",
        watchers,
        publisher,
        "slowest 503 " + publisher.slowestRefusal().toMillis() + " ms, seqs=1.." + last + " each");
  }

  @Test
  @Order(6)
  void aFrozenRedisGets503sInTimeWhileSubscribersStayConnectedAndAreRepairedAfter()
      throws Exception {
    List<String> jobs = createJobs(2);
    List<ClusterWatcher> watchers = watchers(1, jobs);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);

    int events = 60;
    List<Future<?>> running = produce(publisher, jobs, events, Duration.ofMillis(30));
    await().atMost(DELIVERY).until(() -> publisher.acknowledgedCount() >= jobs.size() * events / 3);
    REDIS.freeze(true); // SIGSTOP: its sockets stay open, nothing answers
    long frozenAt = System.nanoTime();
    try {
      // The command timeout is 2 s: a publish must not hang much past it.
      await("a 503 while Redis is frozen")
          .atMost(Duration.ofSeconds(8))
          .until(() -> publisher.unavailable() > 0);
      Thread.sleep(Math.max(0, 5_000 - (System.nanoTime() - frozenAt) / 1_000_000));
    } finally {
      REDIS.freeze(false);
    }
    awaitDone(running);

    assertThat(publisher.unexpected()).isEmpty();
    // Within the command timeout (2 s), with room for a loaded machine.
    assertThat(publisher.slowestRefusal()).isLessThan(Duration.ofSeconds(5));
    assertHistoryHoldsEveryAcknowledgedEvent(cluster.node(2), publisher, jobs, events + 1);
    finishAll(publisher, jobs);
    long last = events + 2;
    awaitEverySeq(watchers, jobs, last);
    assertFinished(watchers, jobs);
    assertStayedConnected(watchers);
    summary(
        "redis SIGSTOP 5 s + SIGCONT",
        watchers,
        publisher,
        "slowest 503 " + publisher.slowestRefusal().toMillis() + " ms, seqs=1.." + last + " each");
  }

  @Test
  @Order(7)
  void clientsOfAKilledNodeResumeOnTheOthersWithoutAGapOrADuplicate() throws Exception {
    List<String> jobs = createJobs(3);
    List<ClusterWatcher> watchers = watchers(2, jobs);
    ClusterPublisher publisher = new ClusterPublisher(cluster.all(), producerToken);
    ServerProcess victim = cluster.node(0);
    // destroyForcibly must hit the JVM itself: a wrapper script's death would leave it serving.
    assertThat(victim.process.info().command().orElseThrow()).endsWith("/java");

    int events = 60;
    List<Future<?>> running = produce(publisher, jobs, events, Duration.ofMillis(20));
    await().atMost(DELIVERY).until(() -> publisher.acknowledgedCount() >= jobs.size() * events / 3);
    int exit = victim.kill(); // SIGKILL
    int acknowledgedAtKill = publisher.acknowledgedCount();
    awaitDone(running);

    assertThat(exit).isEqualTo(137);
    assertThat(publisher.unexpected()).isEmpty();
    assertHistoryHoldsEveryAcknowledgedEvent(cluster.node(1), publisher, jobs, events + 1);
    finishAll(publisher, jobs);
    long last = events + 2;
    awaitEverySeq(watchers, jobs, last);
    assertFinished(watchers, jobs);
    // Watchers 0 and 1 were on the killed node; the others stayed where they were.
    assertThat(watchers.subList(0, 2)).allSatisfy(w -> assertThat(w.reconnects()).isPositive());
    assertThat(watchers.subList(2, 6)).allSatisfy(w -> assertThat(w.reconnects()).isZero());
    summary(
        "SIGKILL of node 0 after " + acknowledgedAtKill + " acknowledged events",
        watchers,
        publisher,
        "jobs=" + jobs.size() + " seqs=1.." + last + " each");
  }

  private WsProbe connect(URI uri) {
    return WsProbe.connect(http, uri);
  }

  private static long removalsSeen(ClusterWatcher watcher) {
    return watcher.notices().stream()
        .filter(n -> n.path("code").asText().equals("job_not_found"))
        .count();
  }

  private List<String> createJobs(int count) {
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String job = prefix + "job-" + i;
      cluster
          .node(i % cluster.size())
          .call("POST", "/api/jobs", producerToken, "{\"id\":\"" + job + "\"}", 201);
      jobs.add(job);
    }
    return jobs;
  }

  /** {@code perNode} watchers on each node, each knowing every node, its own first. */
  private List<ClusterWatcher> watchers(int perNode, List<String> jobs) {
    List<ClusterWatcher> watchers = new ArrayList<>();
    for (int node = 0; node < cluster.size(); node++) {
      for (int i = 0; i < perNode; i++) {
        String token = ServerProcess.token("watcher-" + node + "-" + i, Role.PUBLISHER);
        ClusterWatcher watcher = new ClusterWatcher(http, cluster.wsUrls(node, token), jobs);
        opened.add(watcher);
        watchers.add(watcher);
      }
    }
    return watchers;
  }

  /**
   * One producer per job: {@code events} stage changes (the first also starts the job); event
   * {@code i} of job {@code j} goes first to node {@code (i + j) % nodes}. Every event is a
   * transition, so every subscriber must get every seq.
   */
  private List<Future<?>> produce(
      ClusterPublisher publisher, List<String> jobs, int events, Duration pace) {
    int nodes = cluster.size();
    List<Future<?>> running = new ArrayList<>();
    for (int j = 0; j < jobs.size(); j++) {
      String job = jobs.get(j);
      int offset = j;
      running.add(
          producers.submit(
              () -> {
                for (int i = 1; i <= events; i++) {
                  String fields =
                      (i == 1 ? "\"status\":\"in_progress\"," : "") + "\"stage\":\"s-" + i + "\"";
                  publisher.publish((i + offset) % nodes, job, job + ":" + i, fields, DELIVERY);
                  Thread.sleep(pace);
                }
                return null;
              }));
    }
    return running;
  }

  /** Completes every job, each through another node. */
  private static void finishAll(ClusterPublisher publisher, List<String> jobs) {
    for (int j = 0; j < jobs.size(); j++) {
      String job = jobs.get(j);
      publisher.publish(j, job, job + ":done", "\"status\":\"completed\"", DELIVERY);
    }
  }

  /** Every watcher's last state of every job is {@code completed}. */
  private static void assertFinished(List<ClusterWatcher> watchers, List<String> jobs) {
    for (ClusterWatcher watcher : watchers) {
      for (String job : jobs) {
        assertThat(watcher.latest(job).path("status").asText()).isEqualTo("completed");
      }
    }
  }

  private static void awaitDone(List<Future<?>> running) throws Exception {
    for (Future<?> producer : running) {
      producer.get(DELIVERY.toSeconds() * 2, TimeUnit.SECONDS);
    }
  }

  /** Waits until every watcher has {@code last} of every job, then checks it got 1..last once. */
  private static void awaitEverySeq(List<ClusterWatcher> watchers, List<String> jobs, long last) {
    await("every watcher at seq " + last + " of every job")
        .atMost(DELIVERY)
        .until(
            () ->
                watchers.stream().allMatch(w -> jobs.stream().allMatch(j -> w.lastSeq(j) >= last)));
    List<Long> expected = LongStream.rangeClosed(1, last).boxed().toList();
    for (ClusterWatcher watcher : watchers) {
      for (String job : jobs) {
        assertThat(watcher.seqs(job))
            .as("seqs of %s, watcher %s", job, watchers.indexOf(watcher))
            .isEqualTo(expected);
      }
    }
  }

  /** The history has seqs 1..last, and each acknowledged event's own stage at the seq it got. */
  private void assertHistoryHoldsEveryAcknowledgedEvent(
      ServerProcess node, ClusterPublisher publisher, List<String> jobs, long last) {
    Map<String, Long> acknowledged = publisher.acknowledged();
    for (String job : jobs) {
      JsonNode history =
          node.call("GET", "/api/jobs/" + job + "/events?since=0", producerToken, null, 200);
      List<JsonNode> entries = new ArrayList<>();
      history.path("events").forEach(entries::add);
      assertThat(entries)
          .extracting(e -> e.path("seq").asLong())
          .isEqualTo(LongStream.rangeClosed(1, last).boxed().toList());
      acknowledged.forEach(
          (eventId, seq) -> {
            if (!eventId.startsWith(job + ":")) {
              return;
            }
            JsonNode entry = entries.get((int) (seq - 1));
            String suffix = eventId.substring(job.length() + 1);
            if (suffix.equals("done")) {
              assertThat(entry.path("status").asText()).isEqualTo("completed");
            } else {
              assertThat(entry.path("stage").asText()).as(eventId).isEqualTo("s-" + suffix);
            }
          });
    }
  }

  private static void assertStayedConnected(List<ClusterWatcher> watchers) {
    assertThat(watchers).allSatisfy(w -> assertThat(w.connectionIds()).hasSize(1));
  }

  private static void summary(
      String scenario, List<ClusterWatcher> watchers, ClusterPublisher publisher, String result) {
    String producers =
        publisher == null
            ? ""
            : " acknowledged="
                + publisher.acknowledgedCount()
                + " 503s="
                + publisher.unavailable()
                + " unreachable="
                + publisher.unreachable();
    System.out.println(
        "[cluster] "
            + scenario
            + ": "
            + ClusterWatcher.describe(watchers)
            + producers
            + " "
            + result);
  }
}
