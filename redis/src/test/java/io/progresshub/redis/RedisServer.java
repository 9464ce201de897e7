package io.progresshub.redis;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real {@code redis-server} for one test class, on a free loopback port, with the durable
 * settings a deployment would use ({@code appendonly yes}, {@code appendfsync always}, no RDB
 * snapshots) and its files in a temporary directory. Register it as a static field with
 * {@code @RegisterExtension}. Without a {@code redis-server} binary the tests are skipped, saying
 * how to install it ({@code scripts/install-test-deps.sh}). Shared with other modules' tests
 * through this module's test-jar.
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger PREFIXES = new AtomicInteger();

  private Path binary;
  private Path dir;
  private int port;
  private Process process;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Optional<Path> found = binary("redis-server");
    Assumptions.assumeTrue(
        found.isPresent(),
        "redis-server is not installed: run scripts/install-test-deps.sh (as root it installs"
            + " the Debian package redis-server)");
    binary = found.get();
    dir = Files.createTempDirectory("progress-hub-redis");
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (process != null) {
      stop();
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /** The server's URI for Lettuce. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** A key prefix no other test of this JVM uses: tests share the server but not their data. */
  public static String freshPrefix() {
    return "test-" + PREFIXES.incrementAndGet() + ":";
  }

  /** Settings for one node of a test, with its own prefix of keys and channels. */
  public RedisSettings settings(String prefix, String nodeId) {
    return RedisSettings.builder(uri())
        .keyPrefix(prefix)
        .nodeId(nodeId)
        .commandTimeout(Duration.ofSeconds(2))
        .build();
  }

  /** Starts the server (again, on the same port and files) and waits until it answers PING. */
  public void start() throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                binary.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--daemonize",
                "no",
                "--logfile",
                dir.resolve("redis.log").toString()));
    command.addAll(durableArguments());
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.out").toFile())
            .start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!answersPing()) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "redis-server did not start on port " + port + ": " + log());
      }
      Thread.sleep(20);
    }
  }

  /** Stops the server the way an operator does (SIGTERM): it finishes its AOF and exits. */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Kills the server without warning (SIGKILL), as a crash would. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: it keeps its sockets but answers nothing. */
  public void freeze(boolean frozen) throws IOException, InterruptedException {
    freeze(process, frozen);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) a process. */
  static void freeze(Process process, boolean frozen) throws IOException, InterruptedException {
    Process signal =
        new ProcessBuilder("kill", frozen ? "-STOP" : "-CONT", Long.toString(process.pid()))
            .inheritIO()
            .start();
    if (!signal.waitFor(10, TimeUnit.SECONDS) || signal.exitValue() != 0) {
      throw new IllegalStateException("could not signal process " + process.pid());
    }
  }

  /**
   * The settings a deployment would use for durability, as {@code redis-server} arguments: every
   * write in the append-only file and fsynced before the answer, no RDB snapshots.
   */
  public static List<String> durableArguments() {
    return List.of("--appendonly", "yes", "--appendfsync", "always", "--save", "");
  }

  private boolean answersPing() {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(1000);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String line =
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      return "+PONG".equals(line);
    } catch (IOException e) {
      return false;
    }
  }

  private String log() {
    try {
      Path log = dir.resolve("redis.log");
      return Files.exists(log) ? Files.readString(log) : "(no log)";
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** The executable {@code name} (redis-server, redis-cli) on the PATH or in the usual places. */
  public static Optional<Path> binary(String name) {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin:/usr/local/bin";
    for (String directory : path.split(":")) {
      if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, name))) {
        return Optional.of(Path.of(directory, name));
      }
    }
    return Optional.empty();
  }
}
