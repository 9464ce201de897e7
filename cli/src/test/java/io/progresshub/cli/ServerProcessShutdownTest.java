package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the real {@code progress-hub serve} process stops, and how it refuses to start twice. */
class ServerProcessShutdownTest {

  /** The server's grace period for connections to go (NetworkConfig's default). */
  private static final Duration GRACE = Duration.ofSeconds(10);

  /** Room for a JVM to exit on a loaded machine, on top of the grace period. */
  private static final Duration EXIT_SLACK = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();
  private final String publisher = ServerProcess.token("worker", Role.PUBLISHER);

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void sigtermClosesWebSocketsWith1001EndsSseStreamsExits0AndKeepsTheLastAcknowledgedEvent() {
    ServerProcess server = start();
    server.call("POST", "/api/jobs", publisher, "{\"id\":\"job-term\"}", 201);
    server.call(
        "POST",
        "/api/jobs/job-term/events",
        publisher,
        "{\"progress\":10,\"stage\":\"download\",\"event_id\":\"w-1\"}",
        200);

    try (WsProbe ws = WsProbe.connect(server.http, server.ws("/ws?token=" + publisher));
        SseProbe sse =
            SseProbe.open(server.http, server.http("/api/jobs/job-term/stream"), publisher)) {
      ws.next("connection_established");
      ws.send("{\"type\":\"subscribe\",\"job_id\":\"job-term\",\"id\":\"s1\"}");
      assertThat(ws.next("subscribed").path("seq").asLong()).isEqualTo(2);
      assertThat(ws.next("progress").path("seq").asLong()).isEqualTo(2);
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.contentType()).startsWith("text/event-stream");
      await("the SSE stream's first event")
          .atMost(Duration.ofSeconds(30))
          .until(() -> sse.hasEventId(2));

      JsonNode last =
          server.call(
              "POST",
              "/api/jobs/job-term/events",
              publisher,
              "{\"progress\":50,\"stage\":\"transcode\",\"event_id\":\"w-2\"}",
              200);
      assertThat(last.path("seq").asLong()).isEqualTo(3);

      server.terminate(); // SIGTERM

      assertThat(ws.awaitClose()).as("WebSocket close code\n%s", server).isEqualTo(1001);
      assertThat(sse.awaitEnd(GRACE.plus(EXIT_SLACK)))
          .as("the SSE stream ends with its last chunk, not a broken connection\n%s", server)
          .isEmpty();
      assertThat(server.awaitExit(GRACE.plus(EXIT_SLACK)))
          .as("exit code after SIGTERM\n%s", server)
          .isZero();
    }
    assertThat(server.stderr())
        .as("log of the stopped server\n%s", server)
        .anyMatch(line -> line.contains("SIGTERM received"))
        .anyMatch(line -> line.contains("progress-hub stopped"))
        .noneMatch(line -> line.contains("still open after")) // all went within the grace period
        .noneMatch(line -> line.contains("ERROR"));

    ServerProcess restarted = start();
    JsonNode job = restarted.call("GET", "/api/jobs/job-term", publisher, null, 200);
    assertThat(job.path("seq").asLong()).isEqualTo(3);
    assertThat(job.path("stage").asText()).isEqualTo("transcode");
    JsonNode history =
        restarted.call("GET", "/api/jobs/job-term/events?since=2", publisher, null, 200);
    assertThat(history.path("events")).hasSize(1);
    assertThat(history.path("events").get(0).path("seq").asLong()).isEqualTo(3);
    JsonNode retry =
        restarted.call(
            "POST",
            "/api/jobs/job-term/events",
            publisher,
            "{\"progress\":50,\"stage\":\"transcode\",\"event_id\":\"w-2\"}",
            200);
    assertThat(retry.path("seq").asLong()).as("a retry of the last event").isEqualTo(3);
  }

  @Test
  void aSecondServerOnTheSameDataDirectoryRefusesToStartAndTheFirstKeepsServing() {
    ServerProcess first = start();
    first.call("POST", "/api/jobs", publisher, "{\"id\":\"job-lock\"}", 201);

    ServerProcess second =
        ServerProcess.launch(dir, Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET));
    servers.add(second);
    int exitCode = second.awaitExit(ServerProcess.STARTUP);

    assertThat(exitCode).as("exit code of the second server\n%s", second).isEqualTo(1);
    assertThat(second.stderr())
        .as("what the second server says")
        .contains(
            "progress-hub: error: data directory "
                + second.dataDir.toAbsolutePath()
                + " is in use by another progress-hub")
        .noneMatch(line -> line.startsWith("\tat ")); // one clear line, no stack trace
    assertThat(second.stdout()).as("no banner: it never served").isEmpty();

    first.call("GET", "/api/jobs/job-lock", publisher, null, 200);
    first.call("POST", "/api/jobs/job-lock/events", publisher, "{\"progress\":5}", 200);
  }

  @Test
  void aServerOnATakenPortRefusesToStartAndSaysWhichAddress(@TempDir Path otherDir) {
    ServerProcess first = start();

    ServerProcess second =
        ServerProcess.launch(
            otherDir,
            Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
            "--port",
            String.valueOf(first.port()));
    servers.add(second);
    int exitCode = second.awaitExit(ServerProcess.STARTUP);

    assertThat(exitCode).as("exit code of the second server\n%s", second).isEqualTo(1);
    assertThat(second.stderr())
        .as("what the second server says")
        .anyMatch(
            line ->
                line.startsWith("progress-hub: error: cannot listen on 127.0.0.1:" + first.port())
                    && line.contains("Address already in use"))
        .noneMatch(line -> line.startsWith("\tat "));
    first.call("GET", "/api/jobs?limit=1", publisher, null, 200);
  }

  @Test
  void withADrainDelayReadyTurns503AtOnceWhileEverythingIsStillServedThenItExits0()
      throws Exception {
    ServerProcess server =
        ServerProcess.start(
            dir, Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET), "--drain-delay", "4s");
    servers.add(server);
    server.call("POST", "/api/jobs", publisher, "{\"id\":\"job-drain\"}", 201);
    assertThat(server.get("/ready", Optional.empty()).statusCode()).isEqualTo(200);
    long sent = System.nanoTime();

    server.terminate();

    await("/ready answering 503")
        .atMost(Duration.ofSeconds(3))
        .until(() -> server.get("/ready", Optional.empty()).statusCode() == 503);
    assertThat(server.get("/ready", Optional.empty()).body()).contains("draining");
    assertThat(server.get("/health", Optional.empty()).statusCode()).isEqualTo(200);
    server.call(
        "POST", "/api/jobs/job-drain/events", publisher, "{\"progress\":50}", 200); // still served
    assertThat(server.awaitExit(GRACE.plus(EXIT_SLACK))).isZero();
    assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThan(Duration.ofSeconds(4));
  }

  private ServerProcess start() {
    ServerProcess server = ServerProcess.start(dir);
    servers.add(server);
    return server;
  }
}
