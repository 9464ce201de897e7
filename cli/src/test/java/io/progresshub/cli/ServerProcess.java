package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * A real {@code progress-hub serve} in a child JVM, as an operator runs it: the test JVM's own java
 * and classpath, {@code --port 0}, the production logging config. It reads the bound port from the
 * banner on stdout and waits for {@code GET /health}.
 *
 * <p>stdout and stderr go to files next to the data directory and are read from there: the JDK
 * closes a child's pipes when it exits, which can cut off a reader in the middle of the last lines
 * (the shutdown log this class's users check).
 *
 * <p>{@link #close} kills the child if it still runs, so a failing test leaves no server behind.
 */
final class ServerProcess implements AutoCloseable {

  /** What tests put in {@code PROGRESS_HUB_JWT_SECRET} to mint tokens the child accepts. */
  static final String SECRET = "process-test-secret-process-test-secret-0123";

  static final ObjectMapper JSON = new ObjectMapper();

  /** A cold JVM on two shared cores, under a parallel build, can take this long to listen. */
  static final Duration STARTUP = Duration.ofSeconds(90);

  static final Duration HTTP_TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern HTTP_LINE = Pattern.compile("\\s*HTTP:\\s+http://([^\\s/]+):(\\d+)");
  private static final Pattern TOKEN_LINE = Pattern.compile("\\s{4}(eyJ[\\w.-]+)");
  private static final AtomicInteger LAUNCHES = new AtomicInteger();

  final Process process;
  final Path dataDir;
  private final Path stdoutFile;
  private final Path stderrFile;
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private int port = -1;

  private ServerProcess(Process process, Path dataDir, Path stdoutFile, Path stderrFile) {
    this.process = process;
    this.dataDir = dataDir;
    this.stdoutFile = stdoutFile;
    this.stderrFile = stderrFile;
  }

  /** {@code serve} with {@link #SECRET} on {@code dir/data}, ready to serve. */
  static ServerProcess start(Path dir) {
    return start(dir, Map.of("PROGRESS_HUB_JWT_SECRET", SECRET));
  }

  /**
   * {@code serve} on {@code dir/data}, ready to serve.
   *
   * @param env the child's PROGRESS_HUB_* variables: exactly these, none inherited
   */
  static ServerProcess start(Path dir, Map<String, String> env, String... extraArgs) {
    ServerProcess server = launch(dir, env, extraArgs);
    try {
      server.awaitReady();
      return server;
    } catch (RuntimeException | AssertionError e) {
      server.close();
      throw e;
    }
  }

  /** Starts the child and returns at once, ready or not; see {@link #awaitReady}. */
  static ServerProcess launch(Path dir, Map<String, String> env, String... extraArgs) {
    Path dataDir = dir.resolve("data");
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    String jvmArgs = System.getProperty("progresshub.test.jvm.args", "").strip();
    if (!jvmArgs.isEmpty()) {
      command.addAll(List.of(jvmArgs.split("\\s+")));
    }
    // The test classpath carries logback-test.xml (warnings only); the child logs as in production.
    command.add("-Dlogback.configurationFile=logback.xml");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of("serve", "--host", "127.0.0.1", "--data-dir", dataDir.toString()));
    if (!List.of(extraArgs).contains("--port")) {
      command.addAll(List.of("--port", "0")); // any free port; the banner says which
    }
    command.addAll(List.of(extraArgs));

    String name = "serve-" + LAUNCHES.incrementAndGet();
    Path stdout = dir.resolve(name + ".stdout");
    Path stderr = dir.resolve(name + ".stderr");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
    // The developer's own settings must not leak into the child.
    builder.environment().keySet().removeIf(key -> key.startsWith("PROGRESS_HUB_"));
    builder.environment().putAll(env);
    try {
      return new ServerProcess(builder.start(), dataDir, stdout, stderr);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** The complete lines the child has written to stdout so far. */
  List<String> stdout() {
    return lines(stdoutFile);
  }

  /** The complete lines the child has written to stderr (its log) so far. */
  List<String> stderr() {
    return lines(stderrFile);
  }

  private static List<String> lines(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int end = text.lastIndexOf('\n'); // a line still being written is not a line yet
    return end < 0 ? List.of() : text.substring(0, end).lines().toList();
  }

  /** Waits for the banner's URL on stdout, then for {@code GET /health} to answer 200. */
  void awaitReady() {
    try {
      await("the server's banner on stdout")
          .atMost(STARTUP)
          .pollInterval(Duration.ofMillis(50))
          .failFast("the server exited", () -> !process.isAlive())
          .until(() -> parsePort().isPresent());
      port = parsePort().orElseThrow();
      await("GET /health")
          .atMost(STARTUP)
          .pollInterval(Duration.ofMillis(50))
          .failFast("the server exited", () -> !process.isAlive())
          .ignoreExceptions()
          .until(() -> get("/health", Optional.empty()).statusCode() == 200);
    } catch (ConditionTimeoutException | TerminalFailureException e) {
      throw new AssertionError(
          "the server did not become ready: " + e.getMessage() + "\n" + this, e);
    }
  }

  private Optional<Integer> parsePort() {
    for (String line : stdout()) {
      Matcher m = HTTP_LINE.matcher(line);
      if (m.matches()) {
        return Optional.of(Integer.parseInt(m.group(2)));
      }
    }
    return Optional.empty();
  }

  /** The admin token the banner printed, if auth is on. */
  Optional<String> bannerToken() {
    for (String line : stdout()) {
      Matcher m = TOKEN_LINE.matcher(line);
      if (m.matches()) {
        return Optional.of(m.group(1));
      }
    }
    return Optional.empty();
  }

  int port() {
    assertThat(port).as("the server is ready").isPositive();
    return port;
  }

  URI http(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  URI ws(String path) {
    return URI.create("ws://127.0.0.1:" + port() + path);
  }

  /** A token signed with {@link #SECRET}. */
  static String token(String subject, Role role) {
    return new JwtTokens(
            SECRET.getBytes(StandardCharsets.UTF_8), Optional.empty(), Clock.systemUTC())
        .issue(subject, role, List.of(), Duration.ofHours(1));
  }

  HttpResponse<String> get(String path, Optional<String> token) throws IOException {
    return send("GET", path, token, null);
  }

  HttpResponse<String> post(String path, Optional<String> token, String body) throws IOException {
    return send("POST", path, token, body);
  }

  /** One HTTP call; IOException when the server is gone (the caller decides what that means). */
  HttpResponse<String> send(String method, String path, Optional<String> token, String body)
      throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(http(path)).timeout(HTTP_TIMEOUT);
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** A JSON answer with the expected status, parsed. */
  JsonNode call(String method, String path, String token, String body, int expectedStatus) {
    HttpResponse<String> response;
    try {
      response = send(method, path, Optional.of(token), body);
    } catch (IOException e) {
      throw new AssertionError(method + " " + path + " failed: " + e + "\n" + this, e);
    }
    assertThat(response.statusCode())
        .as("%s %s answered %s", method, path, response.body())
        .isEqualTo(expectedStatus);
    return parse(response.body());
  }

  static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  /** {@code kill -9}: no shutdown hook, no flush, no close. Returns the exit code. */
  int kill() {
    process.destroyForcibly();
    return awaitExit(Duration.ofSeconds(30));
  }

  /** {@code kill} (SIGTERM): a graceful shutdown. Returns at once; see {@link #awaitExit}. */
  void terminate() {
    process.destroy();
  }

  /** The exit code, once the child has exited; fails if it does not within {@code timeout}. */
  int awaitExit(Duration timeout) {
    try {
      return process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS).exitValue();
    } catch (TimeoutException e) {
      throw new AssertionError("the server did not exit within " + timeout + ":\n" + this, e);
    } catch (ExecutionException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Output lines so far, for diagnostics. */
  String output() {
    return "stdout:\n  "
        + String.join("\n  ", stdout())
        + "\nstderr:\n  "
        + String.join("\n  ", tail(stderr(), 200));
  }

  private static List<String> tail(List<String> lines, int max) {
    List<String> copy = List.copyOf(lines);
    return copy.size() <= max ? copy : copy.subList(copy.size() - max, copy.size());
  }

  @Override
  public String toString() {
    return "server pid "
        + process.pid()
        + (process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")")
        + "\n"
        + output();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
