package io.progresshub.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Redis Cluster for one test class: three masters (and, if asked, a replica of each) as
 * separate {@code redis-server} processes on free loopback ports, joined by {@code redis-cli
 * --cluster create}, with the durable settings a deployment would use and a short node timeout, so
 * that a replica takes over a killed master within a few seconds. Skipped, saying how to install
 * them, without {@code redis-server} and {@code redis-cli}.
 */
public final class RedisClusterServers implements BeforeAllCallback, AfterAllCallback {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final int MASTERS = 3;

  /** How long a silent node is considered up; failover follows it within a second or two. */
  static final Duration NODE_TIMEOUT = Duration.ofMillis(1500);

  private final int replicasPerMaster;
  private final List<Node> nodes = new ArrayList<>();
  private Path dir;

  /** One cluster node: its process, its client port and its files. */
  public static final class Node {
    private final Path binary;
    private final Path dir;
    private final int port;
    private final int busPort;
    private Process process;

    Node(Path binary, Path dir, int port, int busPort) {
      this.binary = binary;
      this.dir = dir;
      this.port = port;
      this.busPort = busPort;
    }

    public int port() {
      return port;
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }

    /** Starts the node (again, with its files: a restarted node rejoins the cluster). */
    public void start() throws IOException {
      Files.createDirectories(dir);
      List<String> command =
          new ArrayList<>(
              List.of(
                  binary.toString(),
                  "--port",
                  Integer.toString(port),
                  "--cluster-port",
                  Integer.toString(busPort),
                  "--bind",
                  "127.0.0.1",
                  "--dir",
                  dir.toString(),
                  "--cluster-enabled",
                  "yes",
                  "--cluster-config-file",
                  "nodes.conf",
                  "--cluster-node-timeout",
                  Long.toString(NODE_TIMEOUT.toMillis()),
                  "--daemonize",
                  "no",
                  "--logfile",
                  dir.resolve("redis.log").toString()));
      command.addAll(RedisServer.durableArguments());
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("redis.out").toFile())
              .start();
    }

    /** The end of the node's log, for a failure message. */
    String log() {
      try {
        String log = Files.readString(dir.resolve("redis.log"));
        return log.substring(Math.max(0, log.length() - 2000));
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    /** Kills the node without warning (SIGKILL), as a crash would. */
    public void kill() throws InterruptedException {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** Freezes (SIGSTOP) or thaws (SIGCONT) the node: it keeps its sockets but answers nothing. */
    public void freeze(boolean frozen) throws IOException, InterruptedException {
      RedisServer.freeze(process, frozen);
    }

    void stop() throws InterruptedException {
      if (process == null) {
        return;
      }
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }

    /** The reply of one command sent to this node alone. */
    String ask(Command command) {
      RedisClient client =
          RedisClient.create(
              RedisURI.builder()
                  .withHost("127.0.0.1")
                  .withPort(port)
                  .withTimeout(Duration.ofSeconds(2))
                  .build());
      try (StatefulRedisConnection<String, String> connection = client.connect()) {
        return command.apply(connection);
      } finally {
        client.shutdown(0, 1, TimeUnit.SECONDS);
      }
    }

    /** A command to one node. */
    interface Command {
      String apply(StatefulRedisConnection<String, String> connection);
    }
  }

  /** Three masters, no replicas. */
  public RedisClusterServers() {
    this(0);
  }

  public RedisClusterServers(int replicasPerMaster) {
    this.replicasPerMaster = replicasPerMaster;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Optional<Path> server = RedisServer.binary("redis-server");
    Optional<Path> cli = RedisServer.binary("redis-cli");
    Assumptions.assumeTrue(
        server.isPresent() && cli.isPresent(),
        "redis-server and redis-cli are not installed: run scripts/install-test-deps.sh (as root"
            + " it installs the Debian package redis-server)");
    dir = Files.createTempDirectory("progress-hub-redis-cluster");
    int count = MASTERS * (1 + replicasPerMaster);
    for (int i = 0; i < count; i++) {
      nodes.add(startOnFreePorts(server.get(), dir.resolve("node-" + i)));
    }
    List<String> create = new ArrayList<>(List.of(cli.get().toString(), "--cluster", "create"));
    nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
    create.addAll(
        List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
    Process creating =
        new ProcessBuilder(create)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("create.out").toFile())
            .start();
    if (!creating.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
        || creating.exitValue() != 0) {
      creating.destroyForcibly();
      throw new IllegalStateException(
          "redis-cli --cluster create failed: " + Files.readString(dir.resolve("create.out")));
    }
    awaitHealthy();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    for (Node node : nodes) {
      node.stop();
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /** Every master as a seed, comma-separated, as an operator may give them. */
  public String uri() {
    return "redis://"
        + nodes.stream()
            .limit(MASTERS)
            .map(node -> "127.0.0.1:" + node.port())
            .collect(Collectors.joining(","));
  }

  /** Settings for one node of a test, with its own prefix of keys and channels. */
  public RedisSettings settings(String prefix, String nodeId) {
    return RedisSettings.builder(uri())
        .keyPrefix(prefix)
        .nodeId(nodeId)
        .commandTimeout(Duration.ofSeconds(2))
        .build();
  }

  /** The master that holds the slot of {@code prefix}'s hash tag, as the live nodes see it now. */
  public Node masterOf(String prefix) {
    Node any = nodes.stream().filter(Node::alive).findFirst().orElseThrow();
    long slot = Long.parseLong(any.ask(c -> Long.toString(c.sync().clusterKeyslot(prefix))));
    for (String line : any.ask(c -> c.sync().clusterNodes()).split("\n")) {
      String[] fields = line.split(" ");
      if (!fields[2].contains("master") || fields[2].contains("fail")) {
        continue;
      }
      for (int i = 8; i < fields.length; i++) {
        String[] range = fields[i].split("-");
        long from = Long.parseLong(range[0]);
        long to = range.length > 1 ? Long.parseLong(range[1]) : from;
        if (slot >= from && slot <= to) {
          int port =
              Integer.parseInt(
                  fields[1].substring(fields[1].indexOf(':') + 1, fields[1].indexOf('@')));
          return nodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow();
        }
      }
    }
    throw new IllegalStateException("no master serves slot " + slot);
  }

  /** A fresh prefix whose slot lies on the given master: to place a test's keys on purpose. */
  public String freshPrefixOn(Node master) {
    for (int tries = 0; tries < 1000; tries++) {
      String prefix = RedisServer.freshPrefix();
      if (masterOf(prefix) == master) {
        return prefix;
      }
    }
    throw new IllegalStateException("no prefix hashes to the master on port " + master.port());
  }

  /** The masters as created (before any failover). */
  public List<Node> masters() {
    return nodes.subList(0, MASTERS);
  }

  /** The masters serving slots now, as the live nodes see it. */
  public List<Node> currentMasters() {
    List<Node> masters = new ArrayList<>();
    Node any = nodes.stream().filter(Node::alive).findFirst().orElseThrow();
    for (String line : any.ask(c -> c.sync().clusterNodes()).split("\n")) {
      String[] fields = line.split(" ");
      if (fields[2].contains("master") && !fields[2].contains("fail") && fields.length > 8) {
        masters.add(nodeAt(fields[1]));
      }
    }
    return masters;
  }

  /** The replica of {@code master}, as the live nodes see it now. */
  public Node replicaOf(Node master) {
    String masterId = master.ask(c -> c.sync().clusterMyId());
    for (String line : master.ask(c -> c.sync().clusterNodes()).split("\n")) {
      String[] fields = line.split(" ");
      if (fields[2].contains("slave") && fields[3].equals(masterId)) {
        return nodeAt(fields[1]);
      }
    }
    throw new IllegalStateException("the master on port " + master.port() + " has no replica");
  }

  /** Waits until every node is up, agrees the cluster is ok, and every replica is in sync. */
  public void awaitHealthy() throws InterruptedException {
    for (Node node : nodes) {
      awaitUntil(node, reply -> reply.contains("cluster_state:ok"), c -> c.sync().clusterInfo());
    }
    for (Node node : nodes) {
      awaitUntil(
          node,
          reply -> reply.contains("role:master") || reply.contains("master_link_status:up"),
          c -> c.sync().info("replication"));
    }
  }

  /** The node of a CLUSTER NODES address, {@code ip:port@busport}. */
  private Node nodeAt(String address) {
    int port = Integer.parseInt(address.substring(address.indexOf(':') + 1, address.indexOf('@')));
    return nodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow();
  }

  /** Waits until the replica of {@code prefix}'s slot has taken over from its killed master. */
  public Node awaitFailover(String prefix, Node killed) throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        Node master = masterOf(prefix);
        if (master != killed
            && master.ask(c -> c.sync().clusterInfo()).contains("cluster_state:ok")) {
          return master;
        }
      } catch (RuntimeException e) {
        // a node being asked went away or is not ready: ask again
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no replica took over from port " + killed.port());
  }

  private static void awaitUntil(Node node, Predicate<String> ready, Node.Command command)
      throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!node.alive()) {
        throw new IllegalStateException(
            "redis cluster node on port " + node.port() + " exited: " + node.log());
      }
      try {
        last = node.ask(command);
        if (ready.test(last)) {
          return;
        }
      } catch (RuntimeException e) {
        last = e.toString();
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "redis cluster node on port " + node.port() + " not ready: " + last);
  }

  /**
   * A node started and answering. A free port can be taken by another process between the moment it
   * is found and the moment redis-server binds it (the server then exits): the node is started
   * again on other ports, a few times at most.
   */
  private Node startOnFreePorts(Path binary, Path nodeDir) throws Exception {
    IllegalStateException failure = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] ports = freePorts(2);
      Node node =
          new Node(
              binary,
              nodeDir.resolveSibling(nodeDir.getFileName() + "-" + attempt),
              ports[0],
              ports[1]);
      node.start();
      try {
        awaitUntil(node, reply -> reply.startsWith("cluster_"), c -> c.sync().clusterInfo());
        return node;
      } catch (IllegalStateException e) {
        node.stop();
        failure = e;
      }
    }
    throw failure;
  }

  /** Distinct free ports: all held open at once while they are found. */
  private static int[] freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }
}
