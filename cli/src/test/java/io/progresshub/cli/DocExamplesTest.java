package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.client.JobQuery;
import io.progresshub.client.ProgressPublisher;
import io.progresshub.core.Role;
import io.progresshub.protocol.CreateJobRequest;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client's and the command's examples in client/README.md and docs/clients.md, run as a
 * reader would run them, against a real server. Each is found by its {@code <!-- example: NAME -->}
 * marker; a missing one fails the test.
 *
 * <p>Shell examples run in bash with {@code progress-hub} on the PATH (a launcher for this build's
 * classes: the packaged jar does not exist yet when tests run) and {@code PROGRESS_HUB_URL}, {@code
 * PROGRESS_HUB_TOKEN} and {@code PROGRESS_HUB_JWT_SECRET} set. Java examples are statements: each
 * is put in a {@code main} with the imports the README names and run with the JDK's source launcher
 * at {@code --source 17}, the client's Java version; their {@code http://localhost:8080} is pointed
 * at the test's server.
 */
class DocExamplesTest {
  private static final Path ROOT = repositoryRoot();
  private static final Path CLIENT_README = ROOT.resolve("client/README.md");
  private static final Path CLIENTS_DOC = ROOT.resolve("docs/clients.md");
  private static final Duration EXAMPLE_TIMEOUT = Duration.ofSeconds(120);

  @TempDir static Path dir;
  static RunningHub hub;
  static Map<String, String> env;
  static ProgressPublisher publisher;
  static final List<Process> started = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.HOST, "127.0.0.1");
    flags.put(Setting.PORT, "0");
    flags.put(Setting.DATA_DIR, dir.resolve("data").toString());
    hub =
        HubLauncher.start(
            new SettingsLoader(
                    flags,
                    Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
                    ConfigFile.none())
                .load());
    String url = "http://127.0.0.1:" + hub.port();
    String token = ServerProcess.token("worker", Role.PUBLISHER);
    env = new HashMap<>();
    env.put("PROGRESS_HUB_URL", url);
    env.put("PROGRESS_HUB_TOKEN", token);
    env.put("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET);
    env.put("PATH", launcherDir() + File.pathSeparator + System.getenv("PATH"));
    publisher = ProgressPublisher.builder(URI.create(url)).token(token).build();
  }

  /** A failed test leaves no example running (a watch would wait for its job for minutes). */
  @AfterEach
  void killLeftovers() {
    for (Process process : started) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    started.clear();
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  @Test
  void everyExampleIsMarkedAndFound() {
    assertThat(MarkdownExamples.named(CLIENT_README)).containsKeys("java-publish", "java-watch");
    assertThat(MarkdownExamples.named(CLIENTS_DOC))
        .containsKeys("cli-publish-watch", "cli-token-watch");
    // A new Java or shell example in the client's README is run too, or the build says so.
    assertThat(MarkdownExamples.blocks(CLIENT_README))
        .filteredOn(block -> Set.of("java", "sh", "bash").contains(block.language()))
        .allSatisfy(block -> assertThat(block.name()).as(block.toString()).isNotEmpty());
  }

  @Test
  void javaPublishCreatesAJobAndCompletesIt() {
    long before = completedCaptionJobs();

    Example run = java("java-publish").run();

    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(completedCaptionJobs()).isEqualTo(before + 1);
  }

  @Test
  void javaWatchFollowsAJobLiveToItsEnd() {
    publisher.create(CreateJobRequest.builder().id("job-42").type("captions").build());
    publisher.progress("job-42", 40, "transcribe", "chunk 4/10");

    Example run = java("java-watch").start();
    await("the watch's first line")
        .atMost(EXAMPLE_TIMEOUT)
        .failFast("the example ended", () -> !run.process().isAlive())
        .until(() -> run.stdout().contains("40.0% transcribe"));
    publisher.progress("job-42", 80, "translate", null);
    publisher.complete("job-42", "s3://bucket/job-42.vtt");
    run.awaitExit();

    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.stdout().lines())
        .containsSubsequence("40.0% transcribe", "80.0% translate", "job-42 completed");
  }

  @Test
  void cliPublishWatchPrintsTheCompletedJobAndExitsZero() {
    Example run = shell(CLIENTS_DOC, "cli-publish-watch").run();

    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.stdout().lines().toList())
        .anyMatch(line -> line.matches("job-\\S+ +in_progress +40% .*transcribe.*"))
        .last()
        .asString()
        .matches("job-\\S+ completed 100% transcribe .*");
  }

  @Test
  void cliTokenWatchLetsASubscriberWatchTheJobItsTokenLists() {
    publisher.create(CreateJobRequest.builder().id("job-43").type("captions").build());
    publisher.progress("job-43", 50, null, null);
    publisher.complete("job-43", "done");

    Example run = shell(CLIENTS_DOC, "cli-token-watch").run();

    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.stdout()).contains("\"job_id\":\"job-43\"").contains("\"status\":\"completed\"");
  }

  private static long completedCaptionJobs() {
    return publisher.list(JobQuery.ALL.withType("captions").withStatus("completed")).total();
  }

  /** The shell example {@code name} of {@code file}, as a bash script. */
  private static Example shell(Path file, String name) {
    MarkdownExamples.Block block = example(file, name);
    assertThat(block.language()).as(block.toString()).isIn("sh", "bash");
    Path script = write(name + ".sh", block.code());
    return new Example(block, List.of("bash", "-eo", "pipefail", script.toString()));
  }

  /** The Java example {@code name} of the client's README, as a program. */
  private static Example java(String name) {
    MarkdownExamples.Block block = example(CLIENT_README, name);
    assertThat(block.language()).as(block.toString()).isEqualTo("java");
    String code =
        """
        import io.progresshub.client.*;
        import io.progresshub.protocol.*;
        import java.net.URI;
        import java.time.Duration;
        import java.util.List;
        import java.util.Map;

        public class Example {
          public static void main(String[] args) throws Exception {
        %s
          }
        }
        """
            .formatted(block.code().replace("http://localhost:8080", env.get("PROGRESS_HUB_URL")));
    Path source = write(name + "/Example.java", code);
    return new Example(
        block,
        List.of(
            javaCommand(),
            "--source",
            "17",
            "-cp",
            System.getProperty("java.class.path"),
            source.toString()));
  }

  private static MarkdownExamples.Block example(Path file, String name) {
    MarkdownExamples.Block block = MarkdownExamples.named(file).get(name);
    assertThat(block).as("<!-- example: %s --> in %s", name, file).isNotNull();
    return block;
  }

  /** {@code progress-hub} on the PATH of the examples: this build's command, in its own JVM. */
  private static Path launcherDir() {
    Path bin = dir.resolve("bin");
    Path launcher =
        write(
            "bin/progress-hub",
            "#!/usr/bin/env bash\n"
                + "exec '"
                + javaCommand()
                + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '"
                + System.getProperty("java.class.path")
                + "' "
                + Main.class.getName()
                + " \"$@\"\n");
    if (!launcher.toFile().setExecutable(true)) {
      throw new AssertionError("cannot make " + launcher + " executable");
    }
    return bin;
  }

  private static String javaCommand() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static Path write(String relative, String text) {
    Path file = dir.resolve(relative);
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path repositoryRoot() {
    for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
      if (Files.isRegularFile(at.resolve("docs/clients.md"))) {
        return at;
      }
    }
    throw new AssertionError("no docs/clients.md above " + Path.of("").toAbsolutePath());
  }

  /** One example run in a child process, its output in files beside its script. */
  private static final class Example {
    private final MarkdownExamples.Block block;
    private final List<String> command;
    private final Path stdout;
    private final Path stderr;
    private Process process;

    Example(MarkdownExamples.Block block, List<String> command) {
      this.block = block;
      this.command = command;
      this.stdout = dir.resolve(block.name() + ".stdout");
      this.stderr = dir.resolve(block.name() + ".stderr");
    }

    Example start() {
      ProcessBuilder builder =
          new ProcessBuilder(new ArrayList<>(command))
              .directory(dir.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(stdout.toFile())
              .redirectError(stderr.toFile());
      // The developer's own settings must not reach the example.
      builder.environment().keySet().removeIf(key -> key.startsWith("PROGRESS_HUB_"));
      builder.environment().putAll(env);
      try {
        process = builder.start();
        started.add(process);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + command, e);
      }
      return this;
    }

    Example run() {
      start();
      awaitExit();
      return this;
    }

    void awaitExit() {
      try {
        if (!process.waitFor(EXAMPLE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly();
          throw new AssertionError(
              block + " did not finish within " + EXAMPLE_TIMEOUT + ":\n" + this);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    Process process() {
      return process;
    }

    int exitCode() {
      return process.exitValue();
    }

    String stdout() {
      return read(stdout);
    }

    private static String read(Path file) {
      try {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public String toString() {
      return block + "\n" + block.code() + "stdout:\n" + stdout() + "stderr:\n" + read(stderr);
    }
  }
}
