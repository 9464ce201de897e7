package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.redis.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Two {@code progress-hub serve} processes with {@code --redis-url} on one redis-server. */
class ServeRedisProcessTest {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();
  private final String publisher = ServerProcess.token("worker", Role.PUBLISHER);

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void anEventPublishedOnOneNodeReachesAWebSocketSubscriberOfTheOther() {
    ServerProcess first = start("first");
    ServerProcess second = start("second");
    first.call("POST", "/api/jobs", publisher, "{\"id\":\"job-1\"}", 201);

    try (WsProbe watcher = WsProbe.connect(second.http, second.ws("/ws?token=" + publisher))) {
      watcher.next("connection_established");
      watcher.send("{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"id\":\"s1\"}");
      assertThat(watcher.next("subscribed").path("seq").asLong()).isEqualTo(1);

      first.call(
          "POST",
          "/api/jobs/job-1/events",
          publisher,
          "{\"status\":\"in_progress\",\"progress\":10,\"stage\":\"download\"}",
          200);
      first.call("POST", "/api/jobs/job-1/events", publisher, "{\"progress\":40}", 200);

      List<JsonNode> received = watcher.until(m -> m.path("seq").asLong() == 3, 10);
      assertThat(received).extracting(m -> m.path("seq").asLong()).endsWith(2L, 3L);
      assertThat(received.getLast().path("progress").asDouble()).isEqualTo(40.0);
    }
    // The job is the same job on both nodes.
    assertThat(second.call("GET", "/api/jobs/job-1", publisher, null, 200).path("seq").asLong())
        .isEqualTo(3);
  }

  @Test
  void deploymentsWithDifferentPrefixesOnOneRedisDoNotSeeEachOthersJobs() {
    ServerProcess staging = start("staging", "--redis-prefix", "staging:", "--node-id", "stg-1");
    ServerProcess production =
        start("production", "--redis-prefix", "production:", "--node-id", "prod-1");

    staging.call("POST", "/api/jobs", publisher, "{\"id\":\"job-1\"}", 201);
    production.call("GET", "/api/jobs/job-1", publisher, null, 404);
    // The same id is free on the other deployment, and the two jobs stay apart.
    production.call("POST", "/api/jobs", publisher, "{\"id\":\"job-1\"}", 201);
    try (WsProbe watcher =
        WsProbe.connect(production.http, production.ws("/ws?token=" + publisher))) {
      watcher.next("connection_established");
      watcher.send("{\"type\":\"subscribe\",\"job_id\":\"job-1\",\"id\":\"s1\"}");
      assertThat(watcher.next("subscribed").path("seq").asLong()).isEqualTo(1);

      staging.call("POST", "/api/jobs/job-1/events", publisher, "{\"progress\":50}", 200);
      production.call("POST", "/api/jobs/job-1/events", publisher, "{\"progress\":7}", 200);

      // Its own deployment's event, published after the other's, is all this subscriber gets.
      List<JsonNode> received = watcher.until(m -> m.path("seq").asLong() == 2, 10);
      assertThat(received)
          .extracting(m -> m.path("progress").asDouble())
          .doesNotContain(50.0)
          .endsWith(7.0);
    }
    assertThat(
            staging
                .call("GET", "/api/jobs/job-1", publisher, null, 200)
                .path("progress")
                .asDouble())
        .isEqualTo(50.0);
    assertThat(staging.call("GET", "/api/jobs", publisher, null, 200).path("jobs")).hasSize(1);

    assertThat(staging.stderr())
        .anySatisfy(line -> assertThat(line).contains("staging:").contains("this node is stg-1"));
    assertThat(production.stderr())
        .anySatisfy(
            line -> assertThat(line).contains("production:").contains("this node is prod-1"));
  }

  private ServerProcess start(String name, String... extraArgs) {
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
            Stream.concat(Stream.of("--redis-url", REDIS.uri()), Stream.of(extraArgs))
                .toArray(String[]::new));
    servers.add(server);
    return server;
  }
}
