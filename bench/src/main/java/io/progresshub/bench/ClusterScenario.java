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
    List<ClientNetwork> nets = new ArrayList<>();
    List<HttpPool> pools = new ArrayList<>();
    List<Jobs> jobs = new ArrayList<>();
    List<SubscriberProcess> subscribers = new ArrayList<>();
    try {
      List<String> ids = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        ScenarioContext.Node node = nodes.get(k);
        ClientNetwork net = new ClientNetwork(node.host(), node.port(), 32);
        nets.add(net);
        HttpPool pool = new HttpPool(net, p.i("http.connections"), ctx.auth.publisherToken());
        pools.add(pool);
        // Job j is published through node j % n: the nodes share the publishing evenly.
        int count = jobCount / n + (k < jobCount % n ? 1 : 0);
        Jobs set = new Jobs(net, pool, "cluster-" + k, count, p.i("cluster.stage-every"));
        set.createAll();
        jobs.add(set);
        ids.addAll(List.of(set.ids));
      }
      long[] heapBefore = nodes.stream().mapToLong(ClusterScenario::liveHeap).toArray();
      long[] rssBefore = nodes.stream().mapToLong(node -> ProcStats.rssKb(node.pid())).toArray();
      Map<String, String> env =
          ctx.auth.enabled()
              ? Map.of(SECRET_ENV, new String(ctx.auth.secret(), StandardCharsets.UTF_8))
              : Map.of();
      long connected = 0;
      for (int k = 0; k < n; k++) {
        List<String> args = new ArrayList<>();
        args.addAll(
            List.of(
                "--url",
                "http://" + nodes.get(k).host() + ":" + nodes.get(k).port(),
                "--jobs",
                String.join(",", ids),
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
        subscribers.add(process);
        connected +=
            Long.parseLong(process.await("subscribed", p.d("connect.timeout-seconds") + 60));
      }
      ctx.log("cluster %s: %d x %d subscribers, %d subscribed", label, n, perNode, connected);
      Clients.sleep(2000);
      long[] rssIdle = nodes.stream().mapToLong(node -> ProcStats.rssKb(node.pid())).toArray();
      long[] heapIdle = nodes.stream().mapToLong(ClusterScenario::liveHeap).toArray();

      double warmup = p.d("cluster.warmup-seconds");
      double seconds = p.d("cluster.seconds");
      List<OpenLoop> loops = new ArrayList<>();
      for (Jobs set : jobs) {
        loops.add(new OpenLoop(set, rate / n, warmup + seconds).start());
      }
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
      long[][] used = cpus.stream().map(ProcStats.Cpu::stop).toArray(long[][]::new);
      long[] redisUsed = redisCpu.stop();
      long[] rssLoaded = nodes.stream().mapToLong(node -> ProcStats.rssKb(node.pid())).toArray();
      long skipped = 0;
      for (int k = 0; k < n; k++) {
        OpenLoop loop = loops.get(k);
        loop.awaitSent(0);
        OpenLoop.awaitAnswered(jobs.get(k), 10);
        skipped += nets.get(k).call(() -> loop.skipped);
      }

      Map<String, Object> expected = new LinkedHashMap<>();
      long rejected = 0;
      long failed = 0;
      for (Jobs set : jobs) {
        set.net.run(
            () -> {
              long t = System.nanoTime();
              for (int j = 0; j < set.count(); j++) {
                set.complete(j, t);
              }
            });
      }
      for (Jobs set : jobs) {
        OpenLoop.awaitAnswered(set, 30);
        rejected += set.net.call(() -> set.rejected);
        failed += set.net.call(() -> set.failed);
        set.net.run(
            () -> {
              for (int j = 0; j < set.count(); j++) {
                expected.put(set.ids[j], List.of(set.events[j], set.lastSeq[j], set.stage[j]));
              }
            });
      }
      String expect = "expect " + json.writeValueAsString(expected);
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
      long serverCpu = 0;
      for (long[] u : used) {
        serverCpu += u[0];
      }
      double wall = used[0][2];
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
      List<Object> kbPerConnection = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        kbPerConnection.add(Latencies.round((rssIdle[k] - rssBefore[k]) / (double) perNode));
      }
      row.put("node_kb_per_connection", kbPerConnection);
      List<Object> heapPerConnection = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        heapPerConnection.add(
            heapIdle[k] < 0 || heapBefore[k] < 0
                ? null
                : Latencies.round((heapIdle[k] - heapBefore[k]) / (double) perNode));
      }
      row.put("node_heap_bytes_per_connection", heapPerConnection);
      row.put(
          "server_cpu_us_per_delivery",
          delivered == 0 ? null : Latencies.round((double) serverCpu / delivered));
      row.put("server_cpu_util_sum", Latencies.round(serverCpu / wall));
      row.put("redis_cpu_util", redisPid > 0 ? Latencies.round(redisUsed[0] / wall) : null);
      row.put("generator_cpu_util_sum", Latencies.round(generatorCpu / wall));
      row.put("publisher_cpu_util", Latencies.round(redisUsed[1] / wall));
      row.put("skipped_publishes", skipped);
      row.put("publish_rejected", rejected);
      row.put("publish_failed", failed);
      row.put("missing_messages", sums.getOrDefault("missing_messages", 0L));
      row.put("extra_messages", sums.getOrDefault("extra_messages", 0L));
      row.put("lost_transitions", sums.getOrDefault("lost_transitions", 0L));
      row.put("out_of_order", sums.getOrDefault("out_of_order", 0L));
      row.put("conflated_or_skipped_seqs", sums.getOrDefault("conflated_or_skipped_seqs", 0L));
      row.put(
          "subscribers_without_final_state",
          total - sums.getOrDefault("subscribers_with_final_state", 0L));
      row.put("closed_early", sums.getOrDefault("closed_early", 0L));
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
      pools.forEach(HttpPool::close);
      nets.forEach(ClientNetwork::close);
    }
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
