package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import io.progresshub.server.internal.AccessLog;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The access log on a real server, captured from the root logger: a line per request and per
 * connection opened and closed, and no token anywhere in the log, refused requests included.
 */
class AccessLogTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "SECRET-" + UUID.randomUUID();

  private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void capture() {
    captured.start();
    root.addAppender(captured);
  }

  @AfterEach
  void release() {
    root.detachAppender(captured);
    captured.stop();
  }

  @Test
  void everyRequestAndConnectionIsLoggedAndNoTokenEverIs() {
    List<String> tokens = new ArrayList<>(List.of(SECRET));
    String job;
    try (TestServer server = TestServer.start()) {
      job = server.newJob("alice");
      String alice = server.token("alice", Role.SUBSCRIBER);
      tokens.add(alice);
      tokens.add(server.publisher());

      // REST: a bad token in the query and in the header, a good one in the query.
      assertThat(get(server, "/api/jobs?token=" + SECRET + "&limit=5", null).statusCode())
          .isEqualTo(401);
      assertThat(get(server, "/api/jobs", SECRET).statusCode()).isEqualTo(401);
      assertThat(get(server, "/api/jobs/" + job + "?token=" + alice, null).statusCode())
          .isEqualTo(200);

      // WebSocket: refused after the upgrade for a bad token; a good one watches, then leaves.
      try (WsClient refused = server.connect("/ws?token=" + SECRET)) {
        assertThat(refused.awaitClose()).isEqualTo(4401);
      }
      try (WsClient watcher = server.connect("/ws/" + job + "?token=" + alice)) {
        watcher.next("connection_established");
        watcher.next("subscribed");
        watcher.next("progress");
      }
      try (WsClient bearer =
          server.connect("/ws/" + job, Map.of("Authorization", "Bearer " + SECRET))) {
        assertThat(bearer.awaitClose()).isEqualTo(4401);
      }

      // SSE: refused with a bad token; a good one streams until the job ends.
      assertThat(
              SseClient.open(server.port(), "/api/jobs/" + job + "/stream?token=" + SECRET)
                  .status())
          .isEqualTo(401);
      assertThat(
              SseClient.open(
                      server.port(),
                      "/api/jobs/" + job + "/stream",
                      Map.of("Authorization", "Bearer " + SECRET))
                  .status())
          .isEqualTo(401);
      try (SseClient stream =
          SseClient.open(server.port(), "/api/jobs/" + job + "/stream?token=" + alice)) {
        assertThat(stream.status()).isEqualTo(200);
        stream.next();
        server.publishDirect(job, JobUpdate.builder().status(JobStatus.CANCELLED).build());
        stream.eventsUntilEnd();
      }

      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(accessLines())
                      .anyMatch(line -> line.contains(" close ") && line.contains("transport=sse"))
                      .filteredOn(
                          line -> line.contains(" close ") && line.contains("transport=websocket"))
                      .hasSize(3));
    }
    List<String> lines = accessLines();
    assertThat(lines)
        .anyMatch(
            line ->
                line.contains(" request method=GET path=/api/jobs status=401 ")
                    && line.endsWith(" user=-"))
        .anyMatch(
            line ->
                line.contains(" request method=GET path=/api/jobs/" + job + " status=200 ")
                    && line.endsWith(" user=alice"))
        .anyMatch(
            line ->
                line.contains(" request method=GET path=/api/jobs/" + job + "/stream status=401"))
        .anyMatch(
            line ->
                line.contains(" request method=GET path=/api/jobs/" + job + "/stream status=200")
                    && line.contains(" bytes=- "))
        .anyMatch(
            line ->
                line.contains(" open id=c-")
                    && line.contains(" transport=websocket remote=127.0.0.1 user=alice"))
        .anyMatch(
            line ->
                line.contains(" close id=c-")
                    && line.contains(" transport=websocket")
                    && line.contains(" code=4401 "))
        .anyMatch(
            line ->
                line.contains(" close id=c-")
                    && line.contains(" transport=websocket")
                    && line.contains(" user=alice code=- ")
                    && line.endsWith(" messages=2"))
        .anyMatch(
            line ->
                line.contains(" open id=c-") && line.contains(" transport=sse remote=127.0.0.1"))
        .anyMatch(
            line ->
                line.contains(" close id=c-")
                    && line.contains(" transport=sse")
                    && line.contains(" reason=\"job finished\" "));
    for (String text : everythingLogged()) {
      for (String token : tokens) {
        assertThat(text).as("a log line").doesNotContain(token);
      }
    }
  }

  @Test
  void jsonLinesCarryTheSameFields() throws Exception {
    try (TestServer server =
        TestServer.start(
            config -> config.withAccessLog(new AccessLogConfig(AccessLogConfig.Format.JSON)))) {
      String job = server.newJob("alice");
      assertThat(get(server, "/api/jobs/" + job + "?token=" + SECRET, null).statusCode())
          .isEqualTo(401);
      assertThat(get(server, "/api/jobs/" + job, server.admin()).statusCode()).isEqualTo(200);
      ObjectMapper json = new ObjectMapper();
      await()
          .atMost(WAIT)
          .untilAsserted(() -> assertThat(accessLines()).hasSizeGreaterThanOrEqualTo(3));
      List<JsonNode> requests = new ArrayList<>();
      for (String line : accessLines()) {
        JsonNode entry = json.readTree(line);
        assertThat(entry.path("ts").asText()).endsWith("Z");
        if (entry.path("event").asText().equals("request")) {
          requests.add(entry);
        }
      }
      assertThat(requests)
          .anySatisfy(
              entry -> {
                assertThat(entry.path("path").asText()).isEqualTo("/api/jobs/" + job);
                assertThat(entry.path("status").asInt()).isEqualTo(401);
                assertThat(entry.path("user").isNull()).isTrue();
              })
          .anySatisfy(
              entry -> {
                assertThat(entry.path("status").asInt()).isEqualTo(200);
                assertThat(entry.path("user").asText()).isEqualTo("admin");
                assertThat(entry.path("bytes").asLong()).isPositive();
                assertThat(entry.path("ms").isNumber()).isTrue();
                assertThat(entry.path("remote").asText()).isEqualTo("127.0.0.1");
              });
      assertThat(String.join("\n", everythingLogged())).doesNotContain(SECRET);
    }
  }

  private static HttpResponse<String> get(TestServer server, String pathAndQuery, String bearer) {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.http(pathAndQuery));
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    return server.http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).join();
  }

  private List<ILoggingEvent> events() {
    synchronized (captured) { // appends hold the appender's lock
      return List.copyOf(captured.list);
    }
  }

  private List<String> accessLines() {
    return events().stream()
        .filter(event -> event.getLoggerName().equals(AccessLog.LOGGER))
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  /** Every message, argument and stack trace logged, by any logger. */
  private List<String> everythingLogged() {
    List<String> texts = new ArrayList<>();
    for (ILoggingEvent event : events()) {
      texts.add(event.getFormattedMessage());
      if (event.getThrowableProxy() != null) {
        texts.add(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
    }
    return texts;
  }
}
