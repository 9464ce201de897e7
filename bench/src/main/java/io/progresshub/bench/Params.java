package io.progresshub.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The numbers each scenario runs with: a full set, a smoke set (seconds, tiny numbers, for CI), and
 * {@code --set key=value} overrides on top of either.
 */
final class Params {

  private final Map<String, String> values;

  private Params(Map<String, String> values) {
    this.values = values;
  }

  static Params full() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("idle.levels", "1000,5000,10000,19000");
    v.put("idle.jobs", "100");
    v.put("idle.settle-ms", "2000");
    v.put("idle.warmup-connections", "2000");
    v.put("fanout.levels", "1000,10000,19000");
    v.put("fanout.rounds", "10");
    v.put("fanout.warmup-rounds", "5");
    v.put("throughput.jobs", "100");
    v.put("throughput.subscribers", "100");
    v.put("throughput.rates", "100,200,400,700,1000,1500,2000");
    v.put("throughput.step-seconds", "10");
    v.put("throughput.warmup-seconds", "3");
    v.put("throughput.stage-every", "10");
    v.put("throughput.prewarm-rate", "200");
    v.put("throughput.prewarm-seconds", "60");
    v.put("latency.jobs", "10");
    v.put("latency.subscribers", "1000");
    v.put("latency.rate", "100");
    v.put("latency.stage-every", "10");
    v.put("latency.prewarm-seconds", "60");
    v.put("latency.prewarm-rate", "50");
    v.put("latency.settle-seconds", "10");
    v.put("latency.seconds", "20");
    v.put("slow.subscribers", "100");
    v.put("slow.rate", "50");
    v.put("slow.seconds", "20");
    v.put("slow.stage-every", "10");
    v.put("slow.read-bytes", "32");
    v.put("slow.read-every-ms", "100");
    v.put("slow.padding", "8000");
    v.put("slow.warmup-seconds", "5");
    v.put("storm.connections", "10000");
    v.put("storm.jobs", "100");
    v.put("storm.rate", "500");
    v.put("storm.stage-every", "5");
    v.put("storm.before-seconds", "3");
    v.put("storm.warmup-rounds", "2");
    v.put("storm.after-seconds", "3");
    v.put("publish.jobs", "100");
    v.put("publish.connections", "16");
    v.put("publish.seconds", "10");
    v.put("publish.warmup-seconds", "5");
    v.put("publish.batch-size", "100");
    v.put("publish.batch-connections", "4");
    v.put("cluster.connections", "19000");
    v.put("cluster.single-connections", "19000");
    v.put("cluster.jobs", "100");
    v.put("cluster.rate", "20");
    v.put("cluster.stage-every", "10");
    v.put("cluster.warmup-seconds", "30");
    v.put("cluster.seconds", "20");
    v.put("connect.concurrency", "500");
    v.put("connect.timeout-seconds", "120");
    v.put("http.connections", "100");
    return new Params(v);
  }

  static Params smoke() {
    Params p = full();
    Map<String, String> v = p.values;
    v.put("idle.levels", "50,200");
    v.put("idle.jobs", "5");
    v.put("idle.settle-ms", "300");
    v.put("idle.warmup-connections", "20");
    v.put("fanout.levels", "20,100");
    v.put("fanout.rounds", "3");
    v.put("fanout.warmup-rounds", "1");
    v.put("throughput.jobs", "4");
    v.put("throughput.subscribers", "10");
    v.put("throughput.rates", "20,50");
    v.put("throughput.step-seconds", "2");
    v.put("throughput.warmup-seconds", "0.5");
    v.put("throughput.stage-every", "3");
    v.put("throughput.prewarm-seconds", "0.5");
    v.put("latency.jobs", "2");
    v.put("latency.subscribers", "10");
    v.put("latency.rate", "20");
    v.put("latency.stage-every", "3");
    v.put("latency.prewarm-seconds", "0.5");
    v.put("latency.prewarm-rate", "10");
    v.put("latency.settle-seconds", "0.5");
    v.put("latency.seconds", "2");
    v.put("slow.subscribers", "20");
    v.put("slow.rate", "50");
    v.put("slow.seconds", "2");
    v.put("slow.stage-every", "5");
    v.put("slow.warmup-seconds", "0.5");
    v.put("storm.connections", "100");
    v.put("storm.jobs", "5");
    v.put("storm.rate", "50");
    v.put("storm.before-seconds", "1");
    v.put("storm.warmup-rounds", "1");
    v.put("storm.after-seconds", "1");
    v.put("publish.jobs", "4");
    v.put("publish.connections", "2");
    v.put("publish.seconds", "2");
    v.put("publish.warmup-seconds", "0.5");
    v.put("publish.batch-size", "20");
    v.put("publish.batch-connections", "1");
    v.put("cluster.connections", "50");
    v.put("cluster.single-connections", "50");
    v.put("cluster.jobs", "6");
    v.put("cluster.rate", "30");
    v.put("cluster.stage-every", "3");
    v.put("cluster.warmup-seconds", "1");
    v.put("cluster.seconds", "2");
    v.put("connect.timeout-seconds", "30");
    v.put("http.connections", "4");
    return p;
  }

  /** Applies {@code key=value} overrides; unknown keys are an error (a typo must not pass). */
  Params with(Iterable<String> overrides) {
    for (String override : overrides) {
      int eq = override.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set " + override + " (expected: key=value)");
      }
      String key = override.substring(0, eq);
      if (!values.containsKey(key)) {
        throw new IllegalArgumentException("--set: unknown key " + key + "; known: " + values);
      }
      values.put(key, override.substring(eq + 1));
    }
    return this;
  }

  int i(String key) {
    return Integer.parseInt(get(key));
  }

  double d(String key) {
    return Double.parseDouble(get(key));
  }

  int[] ints(String key) {
    return Arrays.stream(get(key).split(","))
        .map(String::trim)
        .mapToInt(Integer::parseInt)
        .toArray();
  }

  /** The values a scenario used, for the record. */
  Map<String, String> subset(String prefix) {
    Map<String, String> out = new TreeMap<>();
    values.forEach(
        (k, val) -> {
          if (k.startsWith(prefix + ".") || k.startsWith("connect.") || k.startsWith("http.")) {
            out.put(k, val);
          }
        });
    return out;
  }

  String get(String key) {
    String value = values.get(key);
    if (value == null) {
      throw new IllegalArgumentException("no parameter " + key);
    }
    return value;
  }
}
