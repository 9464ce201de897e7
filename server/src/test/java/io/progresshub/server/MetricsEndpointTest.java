package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.core.Role;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} on a real server: the counters move by what clients saw, the output is
 * Prometheus text, and the access setting holds.
 */
class MetricsEndpointTest {
  /** {@code name{labels} value}: the shape of every sample line of the text format. */
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})?)"
              + " ([-+]?(?:[0-9.eE+-]+|NaN|Inf))");

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static TestServer start(UnaryOperator<ServerConfig> customize) {
    return TestServer.withMetrics(customize);
  }

  @Test
  void deliveriesAreEventsTimesSubscribersAndTheStoreAndConnectionsShow() {
    try (TestServer server = start(config -> config)) {
      String job = server.newJob("alice");
      List<WsClient> subscribers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        WsClient client =
            server.connect("/ws/" + job + "?token=" + server.token("alice", Role.SUBSCRIBER));
        client.next("connection_established");
        client.next("subscribed");
        client.next("progress");
        subscribers.add(client);
      }
      Map<String, Double> before = scrape(server);
      int events = 20;
      for (int i = 0; i < events; i++) {
        // Stage changes: transitions, which are never conflated.
        server.publishDirect(job, JobUpdate.builder().stage("stage-" + i).build());
      }
      for (WsClient client : subscribers) {
        client.until(message -> message.path("stage").asText().equals("stage-" + (events - 1)));
      }
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(delta(before, scrape(server), "progress_hub_deliveries_total"))
                      .isEqualTo(events * 3.0));
      Map<String, Double> after = scrape(server);
      assertThat(delta(before, after, "progress_hub_events_stored_total{kind=\"transition\"}"))
          .isEqualTo(events);
      assertThat(delta(before, after, "progress_hub_store_commit_seconds_count")).isEqualTo(events);
      assertThat(after.get("progress_hub_connections{transport=\"websocket\"}")).isEqualTo(3.0);
      assertThat(after.get("progress_hub_subscriptions")).isEqualTo(3.0);
      assertThat(after.get("progress_hub_watched_jobs")).isEqualTo(1.0);
      String status = server.hub.get(job).status().wireName();
      assertThat(after.get("progress_hub_jobs{status=\"" + status + "\"}")).isEqualTo(1.0);
      assertThat(after.get("progress_hub_publish_to_write_seconds_count")).isPositive();
      assertThat(after.get("progress_hub_conflated_total")).isZero();
      assertThat(after).containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}");
      assertThat(after).containsKey("progress_hub_netty_event_loop_pending_tasks");
      subscribers.forEach(WsClient::close);
    }
  }

  @Test
  void aFinishedJobIsTimedByType() {
    try (TestServer server = start(config -> config)) {
      String job = server.newJob("alice");
      server.publishDirect(job, JobUpdate.builder().progress(50.0).build());
      server.publishDirect(
          job, JobUpdate.builder().status(io.progresshub.core.JobStatus.COMPLETED).build());
      String type = server.hub.get(job).type();
      assertThat(scrape(server))
          .containsEntry(
              "progress_hub_job_duration_seconds_count{status=\"completed\",type=\"" + type + "\"}",
              1.0);
    }
  }

  @Test
  void aSlowConsumerClosedWith4008IsCounted() {
    Map<String, Object> padding = Map.of("padding", "x".repeat(32 * 1024));
    try (TestServer server =
        start(
            config ->
                config.withLimits(
                    config.limits().toBuilder().maxOutboundBytes(256 * 1024).build()))) {
      String job = server.newJob("alice");
      server.publishDirect(job, JobUpdate.builder().metadata(padding).build());
      try (RawWsClient client =
          RawWsClient.connect(
              server.port(),
              "/ws/" + job + "?token=" + server.token("alice", Role.SUBSCRIBER),
              4096)) {
        client.next("connection_established");
        client.next("subscribed");
        client.next("progress");
        for (int i = 0; i < 600; i++) {
          server.publishDirect(job, JobUpdate.builder().stage("stage-" + i).build());
        }
        assertThat(client.readUntilClose().code()).isEqualTo(4008);
      }
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(scrape(server).get("progress_hub_slow_consumer_closes_total"))
                      .isEqualTo(1.0));
    }
  }

  @Test
  void refusedTokensAndPublishesOverTheRateAreCounted() {
    try (TestServer server =
        start(
            config ->
                config.withLimits(
                    config.limits().toBuilder().publishRate(new Rate(0.1, 1)).build()))) {
      String job = server.newJob("alice");
      Map<String, Double> before = scrape(server);
      assertThat(server.send("GET", "/api/jobs", "not-a-token", null).statusCode()).isEqualTo(401);
      long refused =
          List.of(
                  server.publish(job, "{\"progress\":1}").statusCode(),
                  server.publish(job, "{\"progress\":2}").statusCode())
              .stream()
              .filter(status -> status == 429)
              .count();
      assertThat(refused).isPositive();
      Map<String, Double> after = scrape(server);
      assertThat(delta(before, after, "progress_hub_auth_failures_total")).isEqualTo(1.0);
      assertThat(delta(before, after, "progress_hub_rate_limited_total{limit=\"publish_rate\"}"))
          .isEqualTo(refused);
      assertThat(delta(before, after, "progress_hub_events_refused_total{reason=\"rate_limited\"}"))
          .as("refused by the transport, before the hub")
          .isZero();
    }
  }

  @Test
  void aConnectionOverTheUsersLimitIsCountedByItsLimit() {
    try (TestServer server =
        start(
            config ->
                config.withLimits(config.limits().toBuilder().maxConnectionsPerUser(1).build()))) {
      String alice = server.token("alice", Role.SUBSCRIBER);
      try (WsClient first = server.connect("/ws?token=" + alice);
          WsClient second = server.connect("/ws?token=" + alice)) {
        first.next("connection_established");
        assertThat(second.awaitClose()).isEqualTo(4429);
      }
      assertThat(scrape(server))
          .containsEntry("progress_hub_connections_refused_total{limit=\"per_user\"}", 1.0)
          .containsEntry("progress_hub_connections_refused_total{limit=\"max_connections\"}", 0.0);
    }
  }

  @Test
  void jobTypesPastTheFiftiethShareTheOtherLabel() {
    try (TestServer server = start(config -> config)) {
      for (int i = 0; i < 55; i++) {
        String id = "typed-" + i;
        server.hub.create(NewJob.builder().id(id).owner("alice").type("type-" + i).build());
        server.publishDirect(id, JobUpdate.builder().progress(10.0).build());
        server.publishDirect(
            id, JobUpdate.builder().status(io.progresshub.core.JobStatus.COMPLETED).build());
      }
      Map<String, Double> samples = scrape(server);
      List<String> typed =
          samples.keySet().stream()
              .filter(key -> key.startsWith("progress_hub_job_duration_seconds_count{"))
              .toList();
      assertThat(typed).hasSize(51);
      assertThat(samples)
          .containsEntry(
              "progress_hub_job_duration_seconds_count{status=\"completed\",type=\"other\"}", 5.0);
    }
  }

  @Test
  void theTextFormatParsesLineByLineAndOpenMetricsIsServedWhenAsked() {
    try (TestServer server = start(config -> config)) {
      HttpResponse<String> text = get(server, "/metrics", null, null);
      assertThat(text.statusCode()).isEqualTo(200);
      assertThat(text.headers().firstValue("Content-Type"))
          .hasValue("text/plain; version=0.0.4; charset=utf-8");
      List<String> samples = new ArrayList<>();
      for (String line : text.body().split("\n")) {
        if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
          continue;
        }
        assertThat(SAMPLE.matcher(line).matches()).as("sample line: %s", line).isTrue();
        samples.add(line);
      }
      assertThat(samples).anyMatch(line -> line.startsWith("progress_hub_deliveries_total "));

      HttpResponse<String> openMetrics =
          get(server, "/metrics", null, "application/openmetrics-text; version=1.0.0");
      assertThat(openMetrics.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("application/openmetrics-text");
      assertThat(openMetrics.body()).endsWith("# EOF\n");
    }
  }

  @Test
  void everyMetricIsDocumentedAndTheDashboardReadsOnlyMetricsThatExist() throws Exception {
    Path docs = Path.of(System.getProperty("basedir", ".")).resolve("../docs");
    String operations = Files.readString(docs.resolve("operations.md"));
    String dashboard = Files.readString(docs.resolve("grafana-dashboard.json"));
    try (TestServer server = start(config -> config)) {
      String job = server.newJob("alice");
      server.publishDirect(job, JobUpdate.builder().progress(50.0).build());
      server.publishDirect(
          job, JobUpdate.builder().status(io.progresshub.core.JobStatus.COMPLETED).build());
      Set<String> families = new TreeSet<>();
      Set<String> series = new TreeSet<>();
      for (String key : scrape(server).keySet()) {
        String name = key.replaceAll("\\{.*", "");
        series.add(name);
        families.add(name.replaceAll("_(bucket|count|sum|max)$", ""));
      }
      assertThat(families.stream().filter(name -> name.startsWith("progress_hub_")))
          .isNotEmpty()
          .allSatisfy(name -> assertThat(operations).contains("`" + name));
      Matcher used = Pattern.compile("\\b(progress_hub_[a-z_]+|jvm_[a-z_]+)").matcher(dashboard);
      while (used.find()) {
        if (!used.group(1).startsWith("jvm_gc_pause")) { // there after the first collection
          assertThat(series).as("series the dashboard reads").contains(used.group(1));
        }
      }
    }
  }

  @Test
  void tokenModeWantsAnAdminTokenEvenOnLoopback() {
    try (TestServer server =
        start(config -> config.withMetrics(new MetricsConfig(MetricsConfig.Access.TOKEN)))) {
      assertThat(get(server, "/metrics", null, null).statusCode()).isEqualTo(401);
      assertThat(get(server, "/metrics", server.token("alice", Role.SUBSCRIBER), null).statusCode())
          .isEqualTo(403);
      assertThat(get(server, "/metrics", server.admin(), null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void loopbackThroughAProxyIsNotLoopback() {
    try (TestServer server = start(config -> config)) {
      HttpResponse<String> proxied =
          server
              .http
              .sendAsync(
                  HttpRequest.newBuilder(server.http("/metrics"))
                      .header("X-Forwarded-For", "203.0.113.7")
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .join();
      assertThat(proxied.statusCode()).isEqualTo(401);
      assertThat(get(server, "/metrics", null, null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void metricsOffIsNotFound() {
    try (TestServer server =
        start(config -> config.withMetrics(new MetricsConfig(MetricsConfig.Access.OFF)))) {
      assertThat(get(server, "/metrics", server.admin(), null).statusCode()).isEqualTo(404);
      assertThat(get(server, "/metrics", null, null).statusCode()).isEqualTo(404);
    }
  }

  private static HttpResponse<String> get(
      TestServer server, String path, String token, String accept) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http(path).toString()));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (accept != null) {
      request.header("Accept", accept);
    }
    return server.http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).join();
  }

  /** Every sample of a scrape, by {@code name{labels}} as the server wrote it. */
  private static Map<String, Double> scrape(TestServer server) {
    HttpResponse<String> response = get(server, "/metrics", null, null);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      Matcher sample = SAMPLE.matcher(line);
      if (!line.startsWith("#") && sample.matches()) {
        samples.put(sample.group(1), Double.parseDouble(sample.group(2)));
      }
    }
    return samples;
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
    assertThat(after).as("samples").containsKey(key);
    return after.get(key) - before.getOrDefault(key, 0.0);
  }
}
