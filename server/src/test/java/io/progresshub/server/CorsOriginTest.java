package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.progresshub.core.Role;
import io.progresshub.server.internal.RefusedOrigins;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Browser origins: allowed ones get CORS headers, others are refused before anything is done. */
class CorsOriginTest {
  private static final String ALLOWED = "https://app.example";
  private static final String EVIL = "https://evil.example";

  @RegisterExtension
  static final TestServer server =
      TestServer.perClass(
          config ->
              config.withNetwork(
                  new NetworkConfig("127.0.0.1", 0, List.of(ALLOWED), Duration.ofSeconds(5))));

  private static final RestClient rest = new RestClient(server);

  /** alice's SSE stream of {@code jobId}, opened by a page from {@code origin}. */
  private static SseClient streamFrom(String origin, String jobId) {
    return SseClient.open(
        server.port(),
        "/api/jobs/" + jobId + "/stream?token=" + server.token("alice", Role.SUBSCRIBER),
        Map.of("Origin", origin));
  }

  /** alice's WebSocket, opened by a page from {@code origin}. */
  private static WsClient webSocketFrom(String origin) {
    String token = server.token("alice", Role.SUBSCRIBER);
    return WsClient.connect(server.http, server.ws("/ws?token=" + token), Optional.of(origin));
  }

  private static void assertRefusedOrigin(RestClient.Reply reply) {
    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.code()).isEqualTo("origin_not_allowed");
  }

  @Test
  void anAllowedOriginGetsAccessControlAllowOrigin() {
    String id = server.createJob("cors-allowed", "alice");

    RestClient.Reply reply =
        rest.get("/api/jobs/" + id).token(server.publisher()).header("Origin", ALLOWED).send();

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.header("Access-Control-Allow-Origin")).hasValue(ALLOWED);
    assertThat(reply.header("Vary"))
        .hasValueSatisfying(vary -> assertThat(vary).contains("origin"));
  }

  @Test
  void errorsToAnAllowedOriginCarryTheHeaderSoThePageCanReadThem() {
    RestClient.Reply reply =
        rest.get("/api/jobs/cors-missing")
            .token(server.publisher())
            .header("Origin", ALLOWED)
            .send();

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.header("Access-Control-Allow-Origin")).hasValue(ALLOWED);
  }

  @Test
  void aDisallowedOriginIsRefusedAndNothingIsDone() {
    RestClient.Reply reply =
        rest.post("/api/jobs")
            .token(server.publisher())
            .header("Origin", EVIL)
            .json("{\"id\":\"cors-evil\"}")
            .send();

    assertRefusedOrigin(reply);
    assertThat(reply.header("Access-Control-Allow-Origin")).isEmpty();
    assertThat(rest.get("/api/jobs/cors-evil").token(server.publisher()).send().status())
        .isEqualTo(404);
    assertThat(rest.get("/health").header("Origin", EVIL).send().code())
        .isEqualTo("origin_not_allowed");
  }

  @Test
  void aPreflightFromAnAllowedOriginListsMethodsAndHeaders() {
    RestClient.Reply reply =
        rest.call("OPTIONS", "/api/jobs/any/events")
            .header("Origin", ALLOWED)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send();

    assertThat(reply.status()).isEqualTo(204);
    assertThat(reply.header("Access-Control-Allow-Origin")).hasValue(ALLOWED);
    assertThat(reply.header("Access-Control-Allow-Methods").orElseThrow())
        .contains("GET", "POST", "DELETE");
    assertThat(reply.header("Access-Control-Allow-Headers").orElseThrow().toLowerCase())
        .contains("authorization", "content-type", "last-event-id");
  }

  @Test
  void aPreflightFromADisallowedOriginIsRefused() {
    RestClient.Reply reply =
        rest.call("OPTIONS", "/api/jobs")
            .header("Origin", EVIL)
            .header("Access-Control-Request-Method", "POST")
            .send();

    assertRefusedOrigin(reply);
    assertThat(reply.header("Access-Control-Allow-Methods")).isEmpty();
  }

  @Test
  void aClientWithoutOriginIsServedWithoutCorsHeaders() {
    RestClient.Reply reply = rest.get("/api/jobs").token(server.publisher()).send();

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.header("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void aSameOriginPageIsAllowedWithoutBeingListed() {
    RestClient.Reply reply =
        rest.get("/health").header("Origin", "http://127.0.0.1:" + server.port()).send();

    assertThat(reply.status()).isEqualTo(200);
  }

  @Test
  void anSseStreamForAnAllowedOriginCarriesTheHeader() {
    String id = server.createJob("cors-sse", "alice");
    try (SseClient sse = streamFrom(ALLOWED, id)) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.head.header("access-control-allow-origin")).hasValue(ALLOWED);
      assertThat(sse.next().seq()).isEqualTo(1);
    }
    try (SseClient refused = streamFrom(EVIL, id)) {
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.response.body()).contains("origin_not_allowed");
    }
  }

  @Test
  void aWebSocketFromADisallowedOriginIsRefusedAtTheHandshake() {
    assertThatThrownBy(() -> webSocketFrom(EVIL)).hasStackTraceContaining("403");

    try (WsClient allowed = webSocketFrom(ALLOWED)) {
      assertThat(allowed.next("connection_established").path("connection_id").asText())
          .isNotBlank();
    }
  }

  @Test
  void aRefusedOriginIsLoggedOnceAMinuteWithTheSettingThatAllowsIt() {
    String origin = "http://127.0.0.1:3999";
    Logger logger = (Logger) LoggerFactory.getLogger(RefusedOrigins.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      for (int i = 0; i < 5; i++) {
        assertRefusedOrigin(
            rest.get("/api/jobs").token(server.publisher()).header("Origin", origin).send());
      }
      try (RawHttp raw = RawHttp.open(server.port())) {
        RawHttp.Head refused =
            raw.write(
                    RawHttp.request(
                        "GET", "/api/jobs", Map.of("Origin", "http://evil.example\u001b[2J")))
                .readHead();
        // Netty's HTTP decoder refuses control characters in a header before the origin check.
        assertThat(refused.status()).isEqualTo(400);
      }

      List<String> logged = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      assertThat(logged).filteredOn(line -> line.contains(origin)).hasSize(1);
      assertThat(logged.stream().filter(line -> line.contains(origin)).findFirst().orElseThrow())
          .contains("--allowed-origin " + origin)
          .contains("PROGRESS_HUB_ALLOWED_ORIGINS");
      assertThat(logged)
          .as("a client's control characters never reach the log")
          .noneMatch(line -> line.chars().anyMatch(c -> c < 0x20));
    } finally {
      logger.detachAppender(lines);
    }
  }

  @Test
  void madeUpOriginsCannotFloodTheLog() {
    Logger logger = (Logger) LoggerFactory.getLogger(RefusedOrigins.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    // A server of its own: the log's budget is per server and per minute.
    try (TestServer own = TestServer.start()) {
      RestClient client = new RestClient(own);
      for (int i = 0; i < 60; i++) {
        assertRefusedOrigin(
            client.get("/health").header("Origin", "https://made-up-" + i + ".example").send());
      }
      assertThat(lines.list).hasSize(20);
    } finally {
      logger.detachAppender(lines);
    }
  }
}
