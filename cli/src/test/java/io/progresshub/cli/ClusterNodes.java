package io.progresshub.cli;

import io.progresshub.redis.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Several {@code progress-hub serve} processes on one redis-server, started together (a cold JVM
 * takes seconds; they start in parallel) and killed together by {@link #close}.
 */
final class ClusterNodes implements AutoCloseable {

  private final List<ServerProcess> nodes = new ArrayList<>();
  private final Path dir;
  private final String[] args;
  private int launches;

  private ClusterNodes(Path dir, String[] args) {
    this.dir = dir;
    this.args = args;
  }

  /** {@code count} nodes on {@code redis}, each with {@code extraArgs}, every one ready. */
  static ClusterNodes start(Path dir, RedisServer redis, int count, String... extraArgs) {
    String[] args =
        Stream.concat(Stream.of("--redis-url", redis.uri()), Stream.of(extraArgs))
            .toArray(String[]::new);
    ClusterNodes cluster = new ClusterNodes(dir, args);
    try {
      for (int i = 0; i < count; i++) {
        cluster.nodes.add(cluster.launch());
      }
      cluster.nodes.forEach(ServerProcess::awaitReady);
      return cluster;
    } catch (RuntimeException | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** Starts a new node, with a directory of its own, in place of each one that has exited. */
  void replaceDead() {
    for (int i = 0; i < nodes.size(); i++) {
      if (!nodes.get(i).process.isAlive()) {
        ServerProcess replacement = launch();
        nodes.set(i, replacement);
        replacement.awaitReady();
      }
    }
  }

  private ServerProcess launch() {
    try {
      Path own = Files.createDirectories(dir.resolve("node-" + launches++));
      return ServerProcess.launch(
          own, Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET), args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  ServerProcess node(int index) {
    return nodes.get(index);
  }

  int size() {
    return nodes.size();
  }

  List<ServerProcess> all() {
    return List.copyOf(nodes);
  }

  /** Every node's multiplexed {@code /ws} with this token, starting with node {@code first}. */
  List<URI> wsUrls(int first, String token) {
    List<URI> urls = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      urls.add(nodes.get((first + i) % nodes.size()).ws("/ws?token=" + token));
    }
    return urls;
  }

  @Override
  public void close() {
    nodes.forEach(ServerProcess::close);
  }
}
