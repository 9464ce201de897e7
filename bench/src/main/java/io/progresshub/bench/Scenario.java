package io.progresshub.bench;

import java.util.Map;

/** One benchmark scenario: runs against the server behind {@code ctx} and returns its figures. */
interface Scenario {
  String name();

  /**
   * Returns {@code rows} (one per level or rate), {@code checks} (correctness counters that must be
   * zero or complete) and {@code headline} ({@code metric}, {@code value}, {@code unit}, {@code
   * better}: "lower" or "higher").
   */
  Map<String, Object> run(ScenarioContext ctx) throws Exception;

  static Scenario named(String name) {
    return switch (name) {
      case "idle" -> new IdleScenario();
      case "fanout" -> new FanoutScenario();
      case "throughput" -> new ThroughputScenario();
      case "latency" -> new LatencyScenario();
      case "slow" -> new SlowConsumerScenario();
      case "storm" -> new ReconnectStormScenario();
      case "publish" -> new PublishScenario();
      case "cluster" -> new ClusterScenario();
      default ->
          throw new IllegalArgumentException(
              "unknown scenario "
                  + name
                  + " (idle, fanout, throughput, latency, slow, storm, publish, cluster)");
    };
  }

  static Map<String, Object> headline(String metric, Object value, String unit, String better) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("metric", metric);
    m.put("value", value);
    m.put("unit", unit);
    m.put("better", better);
    return m;
  }
}
