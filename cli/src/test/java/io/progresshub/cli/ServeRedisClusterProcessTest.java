package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.redis.RedisClusterServers;
import io.progresshub.redis.RedisSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code progress-hub serve} processes on a real Redis Cluster (three masters, a replica each),
 * given every master as a seed: jobs and events are shared, and when the master holding the
 * deployment dies, its replica takes over while both processes keep running and the WebSocket
 * subscriber stays connected.
 */
class ServeRedisClusterProcessTest {

  @RegisterExtension static final RedisClusterServers CLUSTER = new RedisClusterServers(1);

  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();
  private final String publisher = ServerProcess.token("worker", Role.PUBLISHER);

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void bothNodesServeOneJobAndGoOnThroughAFailoverOfItsMaster() throws Exception {
    ServerProcess first = start("first");
    ServerProcess second = start("second");
    assertThat(first.output()).contains("Jobs kept in a Redis Cluster").contains("once 1 replicas");
    first.call("POST", "/api/jobs", publisher, "{\"id\":\"job-1\"}", 201);

    try (WsProbe watcher = WsProbe.connect(second.http, second.ws("/ws?token=" + publisher))) {
      watcher.next("connection_established");
      watcher.send("{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"id\":\"s1\"}");
      assertThat(watcher.next("subscribed").path("seq").asLong()).isEqualTo(1);
      first.call(
          "POST",
          "/api/jobs/job-1/events",
          publisher,
          "{\"status\":\"in_progress\",\"stage\":\"download\"}",
          200);
      assertThat(
              watcher.until(m -> m.path("seq").asLong() == 2, 10).getLast().path("stage").asText())
          .isEqualTo("download");

      RedisClusterServers.Node master = CLUSTER.masterOf(RedisSettings.DEFAULT_KEY_PREFIX);
      master.kill();
      try {
        // Refused plainly while no master holds the deployment.
        HttpResponse<String> whileAway =
            first.post(
                "/api/jobs/job-1/events",
                Optional.of(publisher),
                "{\"progress\":10,\"event_id\":\"e-away\"}");
        assertThat(whileAway.statusCode()).as(whileAway.body()).isEqualTo(503);
        CLUSTER.awaitFailover(RedisSettings.DEFAULT_KEY_PREFIX, master);
        // With --redis-replicas 1 the new master takes events once it has a replica again: the
        // operator restarts the dead node, which rejoins as its replica.
        master.start();
        JsonNode accepted =
            publishUntilAccepted(first, "{\"stage\":\"upload\",\"event_id\":\"e-upload\"}");

        List<JsonNode> after =
            watcher.until(m -> m.path("seq").asLong() == accepted.path("seq").asLong(), 20);
        assertThat(after.getLast().path("stage").asText()).isEqualTo("upload");
        assertThat(after).extracting(m -> m.path("type").asText()).containsOnly("progress");
        // What was acknowledged before the crash survived it.
        JsonNode history =
            second.call("GET", "/api/jobs/job-1/events?since=0", publisher, null, 200);
        assertThat(history.toString()).contains("download");
      } finally {
        if (!master.alive()) {
          master.start();
        }
        CLUSTER.awaitHealthy();
      }
    }
    JsonNode onSecond = second.call("GET", "/api/jobs/job-1", publisher, null, 200);
    assertThat(onSecond.path("stage").asText()).isEqualTo("upload");
  }

  /**
   * Publishes until a node takes it (503 store_unavailable meanwhile), bounded; the body's event id
   * makes every retry of an event that landed unconfirmed answer with that event.
   */
  private JsonNode publishUntilAccepted(ServerProcess node, String body) throws Exception {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    HttpResponse<String> last = null;
    while (System.nanoTime() < deadline) {
      last = node.post("/api/jobs/job-1/events", Optional.of(publisher), body);
      if (last.statusCode() == 200) {
        return ServerProcess.parse(last.body());
      }
      assertThat(last.statusCode()).as(last.body()).isEqualTo(503);
      assertThat(last.body()).contains("store_unavailable");
      Thread.sleep(200);
    }
    throw new AssertionError("not taken again after the failover: " + last.body());
  }

  private ServerProcess start(String name) {
    Path own;
    try {
      own = Files.createDirectories(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ServerProcess server =
        ServerProcess.start(
            own,
            Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
            "--redis-url",
            CLUSTER.uri(),
            "--redis-replicas",
            "1");
    servers.add(server);
    return server;
  }
}
