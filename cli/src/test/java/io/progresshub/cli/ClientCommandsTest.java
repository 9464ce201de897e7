package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Role;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands as a user runs them, against a real in-process server. */
class ClientCommandsTest {
  @TempDir static Path dir;
  static RunningHub hub;
  static Map<String, String> env;

  /** What one run of the command printed, and its exit status. */
  record Run(int status, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }
  }

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
    env = new HashMap<>();
    env.put("PROGRESS_HUB_URL", "http://127.0.0.1:" + hub.port());
    env.put("PROGRESS_HUB_TOKEN", ServerProcess.token("admin", Role.ADMIN));
  }

  @AfterAll
  static void stop() {
    hub.close();
  }

  static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = Main.commandLine(env);
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int status = commandLine.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  static Run run(String... args) {
    return run(env, args);
  }

  static String create(String type) {
    Run created = run("create", "--type", type);
    assertThat(created.status()).as(created.err()).isZero();
    return created.out().strip();
  }

  @Test
  void aJobCreatedPublishedAndCompletedIsWatchedAsJsonWithExitStatusZero() {
    String id = create("json-watch");

    Run published =
        run("publish", id, "--progress", "50", "--stage", "encode", "--message", "half");
    Run completed = run("publish", id, "--status", "completed", "--result", "s3://out");
    Run watched = run("watch", id, "--json");

    assertThat(published.status()).isZero();
    assertThat(published.out()).contains(id, "in_progress", "50%", "encode", "half");
    assertThat(completed.status()).isZero();
    assertThat(watched.status()).as(watched.err()).isZero();
    assertThat(watched.lines())
        .last()
        .asString()
        .startsWith("{\"type\":\"progress\",\"job_id\":\"" + id + "\"")
        .contains("\"status\":\"completed\"", "\"result\":\"s3://out\"");
  }

  @Test
  void watchExitsOneForAFailedJobTwoForACancelledOneAndOneWhenEitherFailed() {
    String failed = create("exit-status");
    String cancelled = create("exit-status");
    run("publish", failed, "--progress", "10");
    run("publish", failed, "--status", "failed", "--error", "disk full");
    assertThat(run("cancel", cancelled).status()).isZero();

    Run watchFailed = run("watch", failed, "--plain");
    assertThat(watchFailed.status()).isEqualTo(1);
    assertThat(watchFailed.out()).contains(failed + " failed", "error: disk full");
    assertThat(run("watch", cancelled, "--plain").status()).isEqualTo(2);
    assertThat(run("watch", cancelled, failed, "--plain").status()).isEqualTo(1);
  }

  @Test
  void watchFollowsALiveJobInPlainLinesUntilItCompletes() throws Exception {
    String id = create("live");
    CompletableFuture<Run> watching = CompletableFuture.supplyAsync(() -> run("watch", id));

    for (String stage : List.of("download", "transcode", "upload")) {
      run("publish", id, "--progress", "30", "--stage", stage);
    }
    run("publish", id, "--status", "completed");

    Run watched = watching.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(watched.status()).isZero();
    assertThat(watched.lines()).last().asString().startsWith(id + " completed 100%");
    assertThat(watched.out()).contains("upload");
  }

  @Test
  void watchExitsThreeWhenNoServerAnswers() {
    Map<String, String> nowhere = new HashMap<>(env);
    nowhere.put("PROGRESS_HUB_URL", "http://127.0.0.1:1");

    Run watched = run(nowhere, "watch", "job-1", "--retries", "0");

    assertThat(watched.status()).isEqualTo(3);
    assertThat(watched.err()).contains("progress-hub: error:");
  }

  @Test
  void watchExitsThreeForARefusedToken() {
    String id = create("bad-token");

    Run watched = run("watch", id, "--token", "not-a-token");

    assertThat(watched.status()).isEqualTo(3);
    assertThat(watched.err()).contains("4401");
  }

  @Test
  void publishingToACancelledJobExitsOneWithTheErrorCode() {
    String id = create("cancelled-publish");
    run("cancel", id);

    Run published = run("publish", id, "--progress", "20");

    assertThat(published.status()).isEqualTo(1);
    assertThat(published.err()).contains("job_cancelled");
  }

  @Test
  void jobsListsTheJobsOfATypeAndStatus() {
    String done = create("listed");
    String running = create("listed");
    run("publish", done, "--progress", "10");
    run("publish", done, "--status", "completed");
    run("publish", running, "--progress", "10");

    Run listed = run("jobs", "--type", "listed", "--status", "completed");
    Run json = run("jobs", "--type", "listed", "--json");

    assertThat(listed.status()).isZero();
    assertThat(listed.lines()).hasSize(1).first().asString().startsWith(done + "  completed");
    assertThat(json.out()).startsWith("{\"jobs\":[").contains("\"total\":2");
  }

  @Test
  void demoRunsItsJobsToCompletionAndPrintsTheWatchCommand() {
    Run demo = run("demo", "--jobs", "2", "--tick", "5");

    assertThat(demo.status()).as(demo.err()).isZero();
    assertThat(demo.out()).contains("progress-hub watch job-", "All demo jobs finished.");
    assertThat(run("jobs", "--type", "demo", "--status", "completed").lines()).hasSize(2);
  }

  @Test
  void everyClientCommandHasHelpNamingUrlAndToken() {
    for (String command : List.of("watch", "create", "publish", "jobs", "cancel", "demo")) {
      Run help = run(command, "--help");
      assertThat(help.status()).as(command).isZero();
      assertThat(help.out()).as(command).contains("--url", "--token", "PROGRESS_HUB_URL");
    }
  }

  @Test
  void aWatchAcrossAServerRestartMissesNoStageAndEndsWithTheFinalState(@TempDir Path own)
      throws Exception {
    ServerProcess server = ServerProcess.start(own);
    try {
      int port = server.port();
      Map<String, String> toServer = new HashMap<>(env);
      toServer.put("PROGRESS_HUB_URL", "http://127.0.0.1:" + port);
      String id = run(toServer, "create").out().strip();
      run(toServer, "publish", id, "--progress", "10", "--stage", "download");
      CompletableFuture<Run> watching =
          CompletableFuture.supplyAsync(() -> run(toServer, "watch", id, "--plain"));

      server.kill();
      server =
          ServerProcess.start(
              own,
              Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
              "--port",
              String.valueOf(port));
      run(toServer, "publish", id, "--progress", "60", "--stage", "transcode");
      run(toServer, "publish", id, "--status", "completed");

      Run watched = watching.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(watched.status()).as(watched.err()).isZero();
      assertThat(watched.out()).contains("transcode");
      assertThat(watched.lines()).last().asString().startsWith(id + " completed 100%");
    } finally {
      server.close();
    }
  }
}
