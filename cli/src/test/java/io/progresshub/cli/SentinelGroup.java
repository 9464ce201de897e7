package io.progresshub.cli;

import static org.awaitility.Awaitility.await;

import io.progresshub.redis.RedisServer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;

/**
 * A Redis Sentinel deployment on loopback, as an operator would run one: a master and a replica
 * ({@code appendonly yes}, {@code appendfsync always}, {@code min-replicas-to-write} as given)
 * watched by sentinels with short failure timeouts, every process with its files in a directory of
 * the test. {@link #close} kills them all.
 */
final class SentinelGroup implements AutoCloseable {

  static final String MASTER_NAME = "mymaster";

  private static final Duration READY = Duration.ofSeconds(30);

  /** Every port {@link #freePort} returned in this JVM. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final String binary;
  private final List<Node> servers = new ArrayList<>();
  private final List<Node> sentinels = new ArrayList<>();

  /** One redis-server process on its port, and how it was started. */
  record Node(int port, Process process, List<String> command, Path dir) {}

  private final int minReplicasToWrite;

  private SentinelGroup(Path dir, String binary, int minReplicasToWrite) {
    this.dir = dir;
    this.binary = binary;
    this.minReplicasToWrite = minReplicasToWrite;
  }

  /**
   * A master, {@code replicas} replicas and {@code sentinelCount} sentinels (quorum 1), ready: the
   * replicas in sync and every sentinel aware of the replicas and of the other sentinels. Each
   * server refuses writes with fewer than {@code minReplicasToWrite} replicas (0: never).
   */
  static SentinelGroup start(Path dir, int replicas, int sentinelCount, int minReplicasToWrite) {
    Optional<Path> binary = RedisServer.binary("redis-server");
    Assumptions.assumeTrue(
        binary.isPresent(), "redis-server is not installed: run scripts/install-test-deps.sh");
    SentinelGroup group = new SentinelGroup(dir, binary.get().toString(), minReplicasToWrite);
    try {
      int master = freePort();
      group.servers.add(group.server(master, List.of()));
      for (int i = 0; i < replicas; i++) {
        group.servers.add(
            group.server(
                freePort(), List.of("--replicaof", "127.0.0.1", Integer.toString(master))));
      }
      for (int i = 0; i < sentinelCount; i++) {
        group.sentinels.add(group.sentinel(freePort(), master));
      }
      group.awaitReady(master, replicas, sentinelCount);
      return group;
    } catch (RuntimeException | AssertionError e) {
      group.close();
      throw e;
    }
  }

  /** The URL that {@code serve --redis-url} takes: every sentinel, then the master's name. */
  String url() {
    return "redis-sentinel://"
        + sentinels.stream()
            .map(sentinel -> "127.0.0.1:" + sentinel.port())
            .collect(Collectors.joining(","))
        + "#"
        + MASTER_NAME;
  }

  /** The master's port, as the first sentinel knows it. */
  int masterPort() {
    List<?> address =
        (List<?>)
            command(
                sentinels.getFirst().port(), "SENTINEL", "get-master-addr-by-name", MASTER_NAME);
    return Integer.parseInt((String) address.get(1));
  }

  /**
   * {@code SENTINEL FAILOVER}: a replica is promoted without the master having failed, as for
   * maintenance.
   */
  void failover() {
    command(sentinels.getFirst().port(), "SENTINEL", "FAILOVER", MASTER_NAME);
  }

  /** Kills the master without warning (SIGKILL), as a crash would; returns its port. */
  int killMaster() {
    int port = masterPort();
    for (Node server : servers) {
      if (server.port() == port) {
        server.process().destroyForcibly();
        waitFor(server.process());
      }
    }
    return port;
  }

  /**
   * Starts the server on {@code port} again, with its files, as a supervisor restarts a crashed
   * one; the sentinels make it a replica of the new master.
   */
  void restart(int port) {
    for (int i = 0; i < servers.size(); i++) {
      Node server = servers.get(i);
      if (server.port() == port && !server.process().isAlive()) {
        servers.set(
            i,
            new Node(port, launch(server.command(), server.dir()), server.command(), server.dir()));
      }
    }
  }

  /** Waits until the server on {@code port} is a replica (the sentinels demoted it). */
  void awaitReplica(int port, Duration atMost) {
    await("the server on port " + port + " a replica")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> "slave".equals(((List<?>) command(port, "ROLE")).getFirst()));
  }

  /** Waits until the sentinels name a master other than the one on {@code oldPort}. */
  int awaitNewMaster(int oldPort, Duration atMost) {
    await("a new master")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> masterPort() != oldPort);
    return masterPort();
  }

  private void awaitReady(int master, int replicas, int sentinelCount) {
    await("the replicas in sync and the sentinels aware of each other")
        .atMost(READY)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              String info = (String) command(master, "INFO", "replication");
              long online = info.lines().filter(line -> line.contains("state=online")).count();
              for (Node sentinel : sentinels) {
                if (((List<?>) command(sentinel.port(), "SENTINEL", "replicas", MASTER_NAME)).size()
                        != replicas
                    || ((List<?>) command(sentinel.port(), "SENTINEL", "sentinels", MASTER_NAME))
                            .size()
                        != sentinelCount - 1) {
                  return false;
                }
              }
              return online == replicas;
            });
  }

  private Node server(int port, List<String> extra) {
    Path own = directory("redis-" + port);
    List<String> command =
        new ArrayList<>(
            List.of(
                binary,
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                own.toString(),
                // With 1 (or more), a master without that many replicas refuses writes: after a
                // failover the old master, its only replica promoted, refuses what it would
                // otherwise acknowledge and the new master never get; 0 turns that off.
                "--min-replicas-to-write",
                Integer.toString(minReplicasToWrite),
                "--min-replicas-max-lag",
                "10",
                // A replica that must sync again (the old master after a failover) starts at once
                // rather than after the default 5 s; with min-replicas-to-write, writes wait for
                // it.
                "--repl-diskless-sync-delay",
                "0",
                "--logfile",
                own.resolve("redis.log").toString()));
    command.addAll(RedisServer.durableArguments());
    command.addAll(extra);
    return new Node(port, launch(command, own), command, own);
  }

  private Node sentinel(int port, int master) {
    Path own = directory("sentinel-" + port);
    Path config = own.resolve("sentinel.conf");
    String text =
        String.join(
            "\n",
            "port " + port,
            "bind 127.0.0.1",
            "daemonize no",
            "dir " + own,
            "logfile " + own.resolve("sentinel.log"),
            "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master + " 1",
            // Short for a test, but not below 2 s: a sentinel pings every second, and at 1 s a
            // master just promoted on a busy machine was taken for down and failed over again.
            "sentinel down-after-milliseconds " + MASTER_NAME + " 2000",
            "sentinel failover-timeout " + MASTER_NAME + " 5000",
            "");
    try {
      Files.writeString(config, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = List.of(binary, config.toString(), "--sentinel");
    return new Node(port, launch(command, own), command, own);
  }

  private Path directory(String name) {
    try {
      return Files.createDirectories(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Process launch(List<String> command, Path own) {
    try {
      return new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(own.resolve("out").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** The logs of every process, for a failing test's message. */
  String logs() {
    StringBuilder text = new StringBuilder();
    try (var files = Files.walk(dir)) {
      for (Path log : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        text.append("== ").append(dir.relativize(log)).append('\n');
        lines
            .subList(Math.max(0, lines.size() - 30), lines.size())
            .forEach(line -> text.append(line).append('\n'));
      }
    } catch (IOException e) {
      text.append(e);
    }
    return text.toString();
  }

  @Override
  public void close() {
    for (Node node : sentinels) {
      node.process().destroyForcibly();
    }
    for (Node node : servers) {
      node.process().destroyForcibly();
    }
    sentinels.forEach(node -> waitFor(node.process()));
    servers.forEach(node -> waitFor(node.process()));
  }

  private static void waitFor(Process process) {
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A free port not handed out before in this JVM: the servers are started one after another and
   * bind a moment later, so the same free port could otherwise be found twice.
   */
  private static int freePort() {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * One command over a fresh connection, in RESP: the reply as a String, a Long, a List or null; an
   * error reply is an IllegalStateException.
   */
  static Object command(int port, String... args) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(2000);
      StringBuilder request = new StringBuilder("*" + args.length + "\r\n");
      for (String arg : args) {
        request
            .append('$')
            .append(arg.getBytes(StandardCharsets.UTF_8).length)
            .append("\r\n")
            .append(arg)
            .append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return reply(new BufferedInputStream(socket.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException("redis on port " + port + ": " + String.join(" ", args), e);
    }
  }

  private static Object reply(InputStream in) throws IOException {
    int type = in.read();
    String line = line(in);
    return switch (type) {
      case '+' -> line;
      case '-' -> throw new IllegalStateException(line);
      case ':' -> Long.parseLong(line);
      case '$' -> {
        int length = Integer.parseInt(line);
        if (length < 0) {
          yield null;
        }
        byte[] bytes = in.readNBytes(length + 2);
        yield new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      case '*' -> {
        int count = Integer.parseInt(line);
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          items.add(reply(in));
        }
        yield items;
      }
      default -> throw new IOException("not a RESP reply: " + (char) type + line);
    };
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\r'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      line.append((char) c);
    }
    in.read(); // '\n'
    return line.toString();
  }
}
