package io.progresshub.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Hub;
import io.progresshub.server.AddressLimits;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.NetworkConfig;
import io.progresshub.server.ProgressHubServer;
import io.progresshub.server.Rate;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.auth.AuthConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the bench working: runs every scenario at smoke scale, in-process, against a real
 * progress-hub (auth on, in-memory store) and checks deliveries, not timings: nothing lost, nothing
 * out of order, every subscriber ends with the final state. No figure is asserted on.
 */
class BenchSmokeTest {
  private static final byte[] SECRET =
      "bench-smoke-secret-bench-smoke-secret!".getBytes(StandardCharsets.UTF_8);

  private static Hub hub;
  private static ProgressHubServer server;

  @BeforeAll
  static void start() {
    hub = Hub.builder().build();
    server =
        ProgressHubServer.start(
            ServerConfig.defaults(AuthConfig.hs256(SECRET))
                .withNetwork(new NetworkConfig("127.0.0.1", 0, List.of(), Duration.ofSeconds(2)))
                // As bench/run does: one generator on loopback, one publisher token.
                .withAddresses(new AddressLimits(1_000_000, Rate.UNLIMITED, List.of()))
                .withLimits(LimitsConfig.builder().publishRate(Rate.UNLIMITED).build()),
            hub);
  }

  @AfterAll
  static void stop() {
    server.close();
    hub.close();
  }

  private static Map<String, Object> run(String scenario, String... overrides) throws Exception {
    return run(scenario, ctx -> {}, overrides);
  }

  private static Map<String, Object> run(
      String scenario, Consumer<ScenarioContext> setup, String... overrides) throws Exception {
    Params params =
        Params.smoke()
            .with(
                List.of(
                    "throughput.rates=30",
                    "throughput.step-seconds=1",
                    "latency.seconds=1",
                    "slow.seconds=1",
                    "storm.before-seconds=0.5",
                    "storm.after-seconds=0.5",
                    "publish.seconds=0.5",
                    "idle.levels=20,50",
                    "idle.settle-ms=50",
                    "fanout.levels=30",
                    "fanout.rounds=2"))
            .with(List.of(overrides));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    // pid 0: no /proc or jcmd figures for the test's own JVM.
    try (ScenarioContext ctx =
        new ScenarioContext(
            "progress-hub",
            "127.0.0.1",
            server.port(),
            0,
            params,
            new Auth(SECRET),
            4,
            new PrintStream(log, true, StandardCharsets.UTF_8))) {
      setup.accept(ctx);
      return Scenario.named(scenario).run(ctx);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> checks(Map<String, Object> result) {
    return (Map<String, Object>) result.get("checks");
  }

  /** Checks the result's checks; a failure shows the whole result, which says where it went. */
  private static void assertNothingLost(Map<String, Object> result) {
    Map<String, Object> checks = checks(result);
    String why = "scenario result: " + result;
    assertThat(checks.get("lost_transitions")).as(why).isEqualTo(0L);
    assertThat(checks.get("out_of_order")).as(why).isEqualTo(0L);
    assertThat(checks.get("subscribers_with_final_state"))
        .as(why)
        .isEqualTo(checks.get("subscribers"));
    assertThat(checks.get("publish_failed")).as(why).isEqualTo(0L);
    assertThat(checks.get("publish_rejected")).as(why).isEqualTo(0L);
    assertThat((Map<?, ?>) checks.get("connection_failures")).as(why).isEmpty();
  }

  @Test
  void throughputDeliversEveryTransitionAndTheFinalState() throws Exception {
    Map<String, Object> result = run("throughput");
    assertNothingLost(result);
    assertThat((List<?>) result.get("rows")).hasSize(1);
    assertThat(checks(result).get("messages_received")).isNotEqualTo(0L);
    Map<?, ?> prewarm = (Map<?, ?>) result.get("prewarm");
    assertThat((Long) prewarm.get("published")).isPositive();
    assertThat(prewarm.get("skipped_publishes")).isEqualTo(0L);
  }

  @Test
  void latencyMeasuresEveryDeliveryAtTheFixedRateAndLosesNothing() throws Exception {
    Map<String, Object> result = run("latency");
    assertNothingLost(result);
    assertThat(result.get("connected")).isEqualTo(2 * 10);
    assertThat(checks(result).get("subscribers")).isEqualTo(20L);
    Map<?, ?> row = (Map<?, ?>) ((List<?>) result.get("rows")).get(0);
    assertThat((Long) row.get("count")).isPositive();
    assertThat(row.get("skipped_publishes")).isEqualTo(0L);
    assertThat(((Map<?, ?>) result.get("headline")).get("value")).isEqualTo(row.get("p99_ms"));
    assertThat(row.get("p99_ms")).isInstanceOf(Double.class);
  }

  @Test
  void fanoutReachesEverySubscriber() throws Exception {
    Map<String, Object> result = run("fanout");
    Map<String, Object> checks = checks(result);
    assertThat(checks.get("missing_deliveries")).isEqualTo(0L);
    assertThat(checks.get("lost_transitions")).isEqualTo(0L);
    assertThat(checks.get("out_of_order")).isEqualTo(0L);
  }

  @Test
  void slowConsumerStillGetsEveryTransitionAndTheFinalState() throws Exception {
    Map<String, Object> result = run("slow");
    assertNothingLost(result);
    @SuppressWarnings("unchecked")
    Map<String, Object> slow = (Map<String, Object>) result.get("slow_subscriber");
    assertThat(slow.get("got_final_state")).isEqualTo(true);
    assertThat(slow.get("lost_transitions")).isEqualTo(0L);
  }

  @Test
  void reconnectStormResumesEveryoneWithNothingMissed() throws Exception {
    Map<String, Object> result = run("storm");
    assertNothingLost(result);
    Map<?, ?> storm = (Map<?, ?>) ((List<?>) result.get("rows")).get(0);
    assertThat(storm.get("resumed")).isEqualTo(storm.get("clients"));
  }

  @Test
  void idleConnectionsAllComeUpAfterTheWarmUpRound() throws Exception {
    Map<String, Object> result = run("idle");
    Map<?, ?> warmup = (Map<?, ?>) result.get("warmup");
    assertThat(warmup.get("connected")).isEqualTo(warmup.get("connections"));
    for (Object row : (List<?>) result.get("rows")) {
      Map<?, ?> r = (Map<?, ?>) row;
      assertThat(r.get("connected")).isEqualTo(r.get("connections"));
    }
  }

  @Test
  void publishIsAccepted() throws Exception {
    Map<String, Object> result = run("publish");
    for (Object row : (List<?>) result.get("rows")) {
      Map<?, ?> r = (Map<?, ?>) row;
      assertThat(r.get("rejected_events")).isEqualTo(0L);
      assertThat(r.get("failed_requests")).isEqualTo(0L);
    }
  }

  @Test
  void clusterCountsEveryMessageAcrossSubscriberProcesses() throws Exception {
    // The in-process server stands in for all three nodes: this checks the generator side (one
    // subscriber process per node, merged counts and histograms), not Redis.
    ScenarioContext.Node node = new ScenarioContext.Node("127.0.0.1", server.port(), 0);
    Map<String, Object> result =
        run("cluster", ctx -> ctx.clusterNodes = List.of(node, node, node), "cluster.seconds=1");
    Map<String, Object> checks = checks(result);
    checks.forEach((key, value) -> assertThat(value).as(key).isEqualTo(0L));
    List<?> rows = (List<?>) result.get("rows");
    assertThat(rows).hasSize(2);
    Map<?, ?> cluster = (Map<?, ?>) rows.get(1);
    assertThat(cluster.get("connected")).isEqualTo(3L * 50);
    assertThat((Long) cluster.get("delivered_in_window")).isPositive();
    assertThat(cluster.get("p99_ms")).isInstanceOf(Double.class);
  }

  @Test
  void reportWritesTablesRatiosAndChart(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("raw"));
    for (String scenario : List.of("throughput", "latency")) {
      Map<String, Object> result = run(scenario);
      result.put("scenario", scenario);
      // The same figures under a second name: the headline's ratio column must say 1.
      for (String server : List.of("progress-hub", "bun")) {
        result.put("server", server);
        RunCommand.mapper()
            .writeValue(dir.resolve("raw/" + scenario + "-" + server + ".json").toFile(), result);
      }
    }
    ReportCommand report = new ReportCommand();
    report.dir = dir;
    assertThat(report.call()).isZero();
    String md = Files.readString(dir.resolve("results.md"));
    assertThat(md).contains("## throughput", "## latency");
    assertThat(md.lines().filter(l -> l.startsWith("| latency | p99 latency")))
        .singleElement()
        .asString()
        .endsWith("| 1 | lower |");
    assertThat(Files.size(dir.resolve("latency-vs-load.png"))).isPositive();
  }
}
