package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Role;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

  /** A command running on a thread of its own, whose output can be read while it runs. */
  record Background(CompletableFuture<Run> done, StringWriter out) {
    List<String> lines() {
      return out.toString().lines().toList();
    }

    /** Waits for a line of output that starts with {@code prefix}. */
    void awaitLine(String prefix) {
      await("a line starting with " + prefix)
          .atMost(Duration.ofSeconds(30))
          .failFast("the command ended", done::isDone)
          .until(() -> lines().stream().anyMatch(line -> line.startsWith(prefix)));
    }
  }

  static Background background(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter(); // a StringBuffer inside: safe to read while written
    StringWriter err = new StringWriter();
    CompletableFuture<Run> done =
        CompletableFuture.supplyAsync(
            () -> run(env, out, err, args), task -> new Thread(task, "command").start());
    return new Background(done, out);
  }

  static Run run(Map<String, String> env, String... args) {
    return run(env, new StringWriter(), new StringWriter(), args);
  }

  private static Run run(
      Map<String, String> env, StringWriter out, StringWriter err, String... args) {
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
  void watchExitsThreeForAJobThatDoesNotExist() {
    Run watched = run("watch", "no-such-job", "--plain");

    assertThat(watched.status()).isEqualTo(3);
    assertThat(watched.err())
        .contains("progress-hub: error: job not found: no-such-job (job_not_found)");
  }

  @Test
  void watchOfAJobDeletedWhileWatchedSaysSoAndExitsThree() throws Exception {
    String id = create("deleted");
    Background watching = background(env, "watch", id, "--plain");
    watching.awaitLine(id + " pending");

    HttpResponse<String> deleted =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(env.get("PROGRESS_HUB_URL") + "/api/jobs/" + id))
                    .header("Authorization", "Bearer " + env.get("PROGRESS_HUB_TOKEN"))
                    .DELETE()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(deleted.statusCode()).as(deleted.body()).isBetween(200, 204);

    Run watched = watching.done().get(30, TimeUnit.SECONDS);
    assertThat(watched.status()).isEqualTo(3);
    assertThat(watched.err())
        .contains("progress-hub: error: job was deleted while watched: " + id + " (job_not_found)");
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
      Background watching = background(toServer, "watch", id, "--plain");
      // Connected, and the state drawn, before the kill: the watch must survive the restart, not
      // merely connect late to the new server.
      watching.awaitLine(id + " in_progress 10% download");
      int linesBeforeKill = watching.lines().size();

      server.kill();
      server =
          ServerProcess.start(
              own,
              Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
              "--port",
              String.valueOf(port));
      run(toServer, "publish", id, "--progress", "60", "--stage", "transcode");
      run(toServer, "publish", id, "--status", "completed");

      Run watched = watching.done().get(120, TimeUnit.SECONDS);
      assertThat(watched.status()).as(watched.err()).isZero();
      assertThat(watched.err()).contains("progress-hub: connection lost");
      List<String> afterKill = watched.lines().subList(linesBeforeKill, watched.lines().size());
      assertThat(afterKill).anyMatch(line -> line.startsWith(id + " in_progress 60% transcode"));
      assertThat(afterKill).last().asString().startsWith(id + " completed 100%");
    } finally {
      server.close();
    }
  }
}
