package io.progresshub.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Three nodes on one Redis against one node alone, in one run. Each phase opens {@code
 * cluster.connections} subscribers per node ({@code cluster.single-connections} for the one node)
 * spread over {@code cluster.jobs} jobs; every node's subscribers watch every job, so most events
 * reach a subscriber through Redis from another node. The jobs' events are published open loop at
 * {@code cluster.rate} per second in total, each job through one node (the nodes take turns), for a
 * warm-up and then a measured window: deliveries per second, publish-to-receive latency, RSS and
 * CPU per node. Every job is then completed and every subscriber must have every message, every
 * stage transition and the final state.
 *
 * <p>One process holds at most ~19.9k sockets, so the subscribers live in one {@link
 * SubscriberProcess} per node; this process only publishes and collects their counts and histograms
 * (publish times are CLOCK_MONOTONIC, comparable across processes on one machine).
 */
final class ClusterScenario implements Scenario {
  /** Where the subscriber processes find the HS256 secret. */
  private static final String SECRET_ENV = "BENCH_SUBSCRIBER_JWT_SECRET";

  private final ObjectMapper json = new ObjectMapper();

  @Override
  public String name() {
    return "cluster";
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) throws Exception {
    if (ctx.clusterNodes.isEmpty()) {
      throw new IllegalStateException(
          "the cluster scenario needs --cluster-node URL,PID (bench/run starts the nodes)");
    }
    Params p = ctx.params;
    ScenarioContext.Node single = new ScenarioContext.Node(ctx.net.host, ctx.net.port, ctx.pid);
    List<Map<String, Object>> rows = new ArrayList<>();
    rows.add(phase(ctx, "one node", List.of(single), p.i("cluster.single-connections"), -1));
    rows.add(
        phase(
            ctx,
            ctx.clusterNodes.size() + " nodes on Redis",
            ctx.clusterNodes,
            p.i("cluster.connections"),
            ctx.redisPid));
    Map<String, Object> checks = new LinkedHashMap<>();
    for (String key :
        List.of(
            "missing_messages",
            "lost_transitions",
            "out_of_order",
            "subscribers_without_final_state",
            "closed_early",
            "not_subscribed",
            "publish_rejected",
            "publish_failed",
            "skipped_publishes")) {
      checks.put(key, rows.stream().mapToLong(r -> ((Number) r.get(key)).longValue()).sum());
    }
    Map<String, Object> last = rows.get(rows.size() - 1);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "p99 latency, "
                + last.get("connections")
                + " subscribers on "
                + last.get("nodes")
                + " nodes",
            last.get("p99_ms"),
            "ms",
            "lower"));
    return out;
  }

  /** One phase: subscribers on {@code nodes}, publishing through them, the checks. */
  private Map<String, Object> phase(
      ScenarioContext ctx,
      String label,
      List<ScenarioContext.Node> nodes,
      int perNode,
      long redisPid)
      throws Exception {
    Params p = ctx.params;
    int n = nodes.size();
    int jobCount = p.i("cluster.jobs");
    double rate = p.d("cluster.rate");
    List<SubscriberProcess> subscribers = new ArrayList<>();
    try (ClusterPublisher publisher = new ClusterPublisher(ctx, nodes, jobCount)) {
      long[] heapBefore = nodes.stream().mapToLong(ClusterScenario::liveHeap).toArray();
      long[] rssBefore = rss(nodes);
      long connected = startSubscribers(ctx, label, nodes, perNode, publisher.ids(), subscribers);
      ctx.log("cluster %s: %d x %d subscribers, %d subscribed", label, n, perNode, connected);
      Clients.sleep(2000);
      long[] rssIdle = rss(nodes);
      long[] heapIdle = nodes.stream().mapToLong(ClusterScenario::liveHeap).toArray();

      double warmup = p.d("cluster.warmup-seconds");
      double seconds = p.d("cluster.seconds");
      publisher.start(rate, warmup + seconds);
      Clients.sleep((long) (warmup * 1000));
      for (SubscriberProcess s : subscribers) {
        s.ask("measure", "measuring", 30);
      }
      List<ProcStats.Cpu> cpus = new ArrayList<>();
      nodes.forEach(node -> cpus.add(new ProcStats.Cpu(node.pid()).start()));
      ProcStats.Cpu redisCpu = new ProcStats.Cpu(Math.max(0, redisPid)).start();
      Clients.sleep((long) (seconds * 1000));
      Histogram latency = Latencies.histogram();
      double perSecond = 0;
      long delivered = 0;
      long generatorCpu = 0;
      for (SubscriberProcess s : subscribers) {
        Map<?, ?> w = json.readValue(s.ask("stop", "window", 30), Map.class);
        long count = ((Number) w.get("delivered")).longValue();
        delivered += count;
        perSecond += count / (((Number) w.get("wall_us")).longValue() / 1e6);
        generatorCpu += ((Number) w.get("generator_cpu_us")).longValue();
        latency.add(Latencies.decode((String) w.get("histogram")));
      }
      long serverCpu = 0;
      for (ProcStats.Cpu cpu : cpus) {
        serverCpu += cpu.stop()[0];
      }
      long[] redisUsed = redisCpu.stop();
      double wall = redisUsed[2];
      long[] rssLoaded = rss(nodes);
      long skipped = publisher.awaitDone();

      String expect = "expect " + json.writeValueAsString(publisher.completeAll());
      Map<String, Long> sums = new LinkedHashMap<>();
      Map<String, Object> failures = new LinkedHashMap<>();
      for (int k = 0; k < n; k++) {
        Map<?, ?> c = json.readValue(subscribers.get(k).ask(expect, "checks", 60), Map.class);
        c.forEach(
            (key, v) -> {
              if (v instanceof Number number) {
                sums.merge((String) key, number.longValue(), Long::sum);
              }
            });
        if (c.get("connection_failures") instanceof Map<?, ?> f && !f.isEmpty()) {
          failures.put("node " + k, f);
        }
      }

      long total = (long) n * perNode;
      double offered = rate * total / jobCount;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("phase", label);
      row.put("nodes", n);
      row.put("connections_per_node", perNode);
      row.put("connections", total);
      row.put("connected", connected);
      row.put("jobs", jobCount);
      row.put("publish_rate", rate);
      row.put("offered_deliveries_per_s", Latencies.round(offered));
      row.put("deliveries_per_s", Latencies.round(perSecond));
      row.put("delivered_in_window", delivered);
      row.putAll(Latencies.summary(latency));
      row.put("node_rss_before_mb", mb(rssBefore));
      row.put("node_rss_idle_mb", mb(rssIdle));
      row.put("node_rss_loaded_mb", mb(rssLoaded));
      row.put("node_kb_per_connection", perConnection(rssBefore, rssIdle, perNode));
      row.put("node_heap_bytes_per_connection", perConnection(heapBefore, heapIdle, perNode));
      row.put(
          "server_cpu_us_per_delivery",
          delivered == 0 ? null : Latencies.round((double) serverCpu / delivered));
      row.put("server_cpu_util_sum", Latencies.round(serverCpu / wall));
      row.put("redis_cpu_util", redisPid > 0 ? Latencies.round(redisUsed[0] / wall) : null);
      row.put("generator_cpu_util_sum", Latencies.round(generatorCpu / wall));
      row.put("publisher_cpu_util", Latencies.round(redisUsed[1] / wall));
      row.put("skipped_publishes", skipped);
      row.put("publish_rejected", publisher.rejected);
      row.put("publish_failed", publisher.failed);
      for (String key :
          List.of(
              "missing_messages",
              "extra_messages",
              "lost_transitions",
              "out_of_order",
              "conflated_or_skipped_seqs",
              "closed_early")) {
        row.put(key, sums.getOrDefault(key, 0L));
      }
      row.put(
          "subscribers_without_final_state",
          total - sums.getOrDefault("subscribers_with_final_state", 0L));
      row.put("not_subscribed", total - connected);
      row.put("connection_failures", failures);
      row.put(
          "sustained",
          perSecond >= 0.9 * offered
              && skipped == 0
              && row.get("p99_ms") instanceof Number p99
              && p99.doubleValue() < 1000);
      ctx.log("cluster %s", row);
      return row;
    } finally {
      subscribers.forEach(SubscriberProcess::close);
    }
  }

  /**
   * Starts one subscriber process per node, each with {@code perNode} subscribers spread over
   * {@code jobIds}, into {@code started}; returns how many subscribed.
   */
  private static long startSubscribers(
      ScenarioContext ctx,
      String label,
      List<ScenarioContext.Node> nodes,
      int perNode,
      List<String> jobIds,
      List<SubscriberProcess> started)
      throws java.io.IOException {
    Params p = ctx.params;
    Map<String, String> env =
        ctx.auth.enabled()
            ? Map.of(SECRET_ENV, new String(ctx.auth.secret(), StandardCharsets.UTF_8))
            : Map.of();
    long connected = 0;
    for (int k = 0; k < nodes.size(); k++) {
      List<String> args = new ArrayList<>();
      args.addAll(
          List.of(
              "--url",
              "http://" + nodes.get(k).host() + ":" + nodes.get(k).port(),
              "--jobs",
              String.join(",", jobIds),
              "--connections",
              Integer.toString(perNode),
              "--user-prefix",
              "bench-n" + k + "-user-",
              "--connect-concurrency",
              p.get("connect.concurrency"),
              "--connect-timeout-seconds",
              p.get("connect.timeout-seconds")));
      if (ctx.auth.enabled()) {
        args.addAll(List.of("--jwt-secret-env", SECRET_ENV));
      }
      // One node at a time: three cold generators connecting at once on two CPUs kept
      // handshakes queued past the server's 5 s handshake timeout.
      SubscriberProcess process = SubscriberProcess.start(label + "/" + k, args, env);
      started.add(process);
      connected += Long.parseLong(process.await("subscribed", p.d("connect.timeout-seconds") + 60));
    }
    return connected;
  }

  private static long[] rss(List<ScenarioContext.Node> nodes) {
    return nodes.stream().mapToLong(node -> ProcStats.rssKb(node.pid())).toArray();
  }

  /** Per node: the growth from {@code before} to {@code after} per connection (null: unknown). */
  private static List<Object> perConnection(long[] before, long[] after, int connections) {
    List<Object> out = new ArrayList<>();
    for (int k = 0; k < before.length; k++) {
      out.add(
          before[k] < 0 || after[k] < 0
              ? null
              : Latencies.round((after[k] - before[k]) / (double) connections));
    }
    return out;
  }

  /** Live heap bytes after a full GC, or -1 (not a JVM, or no pid: jcmd 0 would mean every JVM). */
  private static long liveHeap(ScenarioContext.Node node) {
    return node.pid() > 0 && ProcStats.isJvm(node.pid())
        ? ProcStats.jvmLiveHeapBytes(node.pid())
        : -1;
  }

  private static List<Object> mb(long[] kb) {
    List<Object> out = new ArrayList<>();
    for (long v : kb) {
      out.add(Latencies.round(v / 1024.0));
    }
    return out;
  }
}
