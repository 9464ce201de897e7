package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.client.Backoff;
import io.progresshub.client.ConnectionListener;
import io.progresshub.client.JobListener;
import io.progresshub.client.ProgressHubException;
import io.progresshub.client.ProgressPublisher;
import io.progresshub.client.ProgressSubscriber;
import io.progresshub.core.Role;
import io.progresshub.protocol.JobState;
import io.progresshub.redis.RedisServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code serve} nodes on one redis-server behind a real nginx running the committed {@code
 * docs/nginx/progress-hub.conf}: WebSocket and SSE clients connect only through nginx. The tests
 * share the cluster and run in order; the last one stops a node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NginxClusterTest {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  private static final int NODES = 3;
  private static final String ADMIN = ServerProcess.token("ops", Role.ADMIN);
  private static final Backoff QUICK = new Backoff(Duration.ofMillis(50), Duration.ofMillis(500));

  private final List<ServerProcess> nodes = new ArrayList<>();
  private final Set<Integer> stopped = new HashSet<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private NginxProcess nginx;
  private ProgressPublisher publisher;
  private String jobId;
  private int stage;

  @BeforeAll
  void startCluster(@TempDir Path dir) throws IOException {
    Optional<Path> binary = NginxProcess.binary();
    Assumptions.assumeTrue(
        binary.isPresent(),
        "skipped: nginx is not installed and scripts/install-test-deps.sh could not install it"
            + " (as root: apt-get install -y nginx)");
    for (int i = 0; i < NODES; i++) {
      Path own = Files.createDirectories(dir.resolve("node-" + i));
      // a short drain spread keeps the test quick; the hint is still random per connection
      // one at a time: three cold JVMs at once on two shared cores can miss Redis's connect timeout
      nodes.add(
          ServerProcess.start(
              own,
              Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
              "--redis-url",
              REDIS.uri(),
              "--drain-spread",
              "1s"));
    }
    nginx =
        NginxProcess.start(
            binary.get(),
            Files.createDirectories(dir.resolve("nginx")),
            nodes.stream().map(ServerProcess::port).toList());
    publisher =
        ProgressPublisher.builder(nginx.uri(""))
            .token(ServerProcess.token("worker", Role.PUBLISHER))
            .backoff(QUICK)
            .build();
  }

  @AfterAll
  void stopCluster() {
    watchers.forEach(watcher -> watcher.subscriber.close());
    if (nginx != null) {
      nginx.close();
    }
    nodes.forEach(ServerProcess::close);
  }

  @Test
  @Order(1)
  void webSocketSubscribersThroughNginxLandOnDifferentNodesAndEachGetsEveryTransition() {
    jobId = publisher.create().id(); // REST through nginx
    for (int i = 0; i < NODES; i++) {
      Watcher watcher = new Watcher("watcher-" + i);
      watchers.add(watcher);
      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.seqs().contains(1L));
    }

    List<Integer> homes = watchers.stream().map(this::nodeOf).toList();
    assertThat(new HashSet<>(homes)).as("the node of each watcher: %s", homes).hasSize(NODES);

    long last = publishTransitions(3);
    for (Watcher watcher : watchers) {
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> assertThat(watcher.seqs()).containsExactlyElementsOf(seqsUpTo(last)));
    }
  }

  @Test
  @Order(2)
  void anSseStreamThroughNginxGetsEachEventAsItHappens() {
    long current = publishTransitions(1);
    try (SseProbe sse = SseProbe.open(http, nginx.uri("/api/jobs/" + jobId + "/stream"), ADMIN)) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.contentType()).startsWith("text/event-stream");
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.hasEventId(current));

      for (int i = 0; i < 3; i++) {
        long next = publishTransitions(1);
        // one small event at a time: a buffering proxy would hold it back
        await().atMost(Duration.ofSeconds(3)).until(() -> sse.hasEventId(next));
      }
    }
  }

  @Test
  @Order(3)
  void aNodeStoppedGracefullyHandsItsClientsToTheOthersAndTheyMissNothing() {
    Watcher moved = watchers.getFirst();
    int victim = nodeOf(moved);
    assertThat(victim).as("%s is connected to a node", moved.name).isNotNegative();
    ServerProcess stopping = nodes.get(victim);

    stopped.add(victim);
    stopping.terminate(); // SIGTERM: /ready 503, close 1001 with a retry hint, exit
    long during = publishTransitions(2);
    assertThat(stopping.awaitExit(Duration.ofSeconds(30))).isZero();
    publishTransitions(2);
    long last = publisher.complete(jobId, "done").seq();

    for (Watcher watcher : watchers) {
      JobState terminal = watcher.terminal.orTimeout(30, TimeUnit.SECONDS).join();
      assertThat(terminal.seq()).isEqualTo(last);
      assertThat(watcher.seqs())
          .as("%s: every transition once, in order", watcher.name)
          .containsExactlyElementsOf(seqsUpTo(last));
    }
    assertThat(during).isLessThan(last);
    assertThat(moved.disconnects)
        .first()
        .asString()
        .matches("1001 server shutting down; retry_after_ms=\\d+");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(nodeOf(moved)).isNotEqualTo(victim).isGreaterThanOrEqualTo(0));
  }

  /** Publishes {@code count} stage changes through nginx; returns the last seq. */
  private long publishTransitions(int count) {
    long seq = 0;
    for (int i = 0; i < count; i++) {
      stage++;
      seq = publisher.progress(jobId, Math.min(99, stage), "stage-" + stage, null).seq();
    }
    return seq;
  }

  private static List<Long> seqsUpTo(long last) {
    return LongStream.rangeClosed(1, last).boxed().toList();
  }

  /** Which running node holds the watcher's connection, by its /api/connections; -1 for none. */
  private int nodeOf(Watcher watcher) {
    for (int i = 0; i < nodes.size(); i++) {
      if (stopped.contains(i)) {
        continue;
      }
      ServerProcess node = nodes.get(i);
      JsonNode page = node.call("GET", "/api/connections?user=" + watcher.name, ADMIN, null, 200);
      if (page.path("total").asLong() > 0) {
        return i;
      }
    }
    return -1;
  }

  /** A Java SDK subscriber through nginx, under its own token subject, recording what it gets. */
  private final class Watcher implements JobListener, ConnectionListener {
    final String name;
    final ProgressSubscriber subscriber;
    final List<JobState> states = new CopyOnWriteArrayList<>();
    final List<String> disconnects = new CopyOnWriteArrayList<>();
    final CompletableFuture<JobState> terminal;

    Watcher(String name) {
      this.name = name;
      this.subscriber =
          ProgressSubscriber.builder(nginx.uri(""))
              .token(ServerProcess.token(name, Role.ADMIN))
              .backoff(QUICK)
              .connectionListener(this)
              .build();
      this.terminal = subscriber.watch(jobId, this);
    }

    List<Long> seqs() {
      return states.stream().map(JobState::seq).toList();
    }

    @Override
    public void onState(JobState state) {
      states.add(state);
    }

    @Override
    public void onError(ProgressHubException error) {
      disconnects.add("error " + error.getMessage());
    }

    @Override
    public void onDisconnected(int closeCode, String reason, Duration retryIn) {
      disconnects.add(closeCode + " " + reason);
    }
  }
}
