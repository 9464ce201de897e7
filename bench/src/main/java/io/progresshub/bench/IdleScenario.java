package io.progresshub.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Idle connections: open subscribed WebSockets in steps (1k, 5k, 10k, 19k) and measure the server's
 * resident memory (and, for a JVM, the live heap after a full GC) per connection, relative to the
 * server before any connection. A warm-up round opens and closes connections before that baseline.
 */
final class IdleScenario implements Scenario {
  @Override
  public String name() {
    return "idle";
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    Jobs jobs = new Jobs(ctx.net, ctx.http, "idle", p.i("idle.jobs"), 1);
    jobs.createAll();
    Clients.sleep(1000);
    Map<String, Object> warmup = warmUp(ctx, jobs);
    long rss0 = ProcStats.rssKb(ctx.pid);
    long heap0 = ctx.jvm ? ProcStats.jvmLiveHeapBytes(ctx.pid) : -1;
    ctx.log(
        "baseline: RSS %d KiB%s", rss0, heap0 >= 0 ? ", live heap " + heap0 / 1024 + " KiB" : "");

    List<Map<String, Object>> rows = new ArrayList<>();
    List<WsConn> opened = new ArrayList<>();
    int connected = 0;
    for (int level : p.ints("idle.levels")) {
      ctx.requireServerAlive();
      int n = level - opened.size();
      if (n <= 0) {
        continue;
      }
      List<WsConn> conns = ctx.clients.create(jobs.spread(opened.size(), n));
      ProcStats.Cpu cpu = ctx.cpu();
      long t0 = System.nanoTime();
      ctx.clients.subscribe(conns, Clients.Listener.NONE, p);
      double connectSeconds = (System.nanoTime() - t0) / 1e9;
      long[] connectCpu = cpu.stop();
      opened.addAll(conns);
      connected = ctx.clients.awaitSubscribed(opened, 1);
      Clients.sleep(p.i("idle.settle-ms"));
      ProcStats.Cpu idleCpu = ctx.cpu();
      Clients.sleep(1000);
      long[] idle = idleCpu.stop();
      long rss = ProcStats.rssKb(ctx.pid);
      long heap = ctx.jvm ? ProcStats.jvmLiveHeapBytes(ctx.pid) : -1;
      long rssAfterGc = ctx.jvm ? ProcStats.rssKb(ctx.pid) : rss;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("connections", level);
      row.put("connected", connected);
      row.put("connect_s", Latencies.round(connectSeconds));
      row.put("connects_per_s", Latencies.round(n / connectSeconds));
      row.put(
          "server_cpu_us_per_connect",
          connectCpu[0] < 0 ? null : Latencies.round((double) connectCpu[0] / n));
      row.put("rss_mb", Latencies.round(rss / 1024.0));
      row.put(
          "rss_kb_per_conn",
          connected == 0 ? null : Latencies.round((double) (rss - rss0) / connected));
      row.put("rss_after_gc_mb", Latencies.round(rssAfterGc / 1024.0));
      row.put("heap_live_mb", heap < 0 ? null : Latencies.round(heap / 1048576.0));
      row.put(
          "heap_bytes_per_conn",
          heap < 0 || connected == 0 ? null : Latencies.round((double) (heap - heap0) / connected));
      row.put(
          "idle_server_cpu_util", idle[0] < 0 ? null : Latencies.round((double) idle[0] / idle[2]));
      row.put("server_threads", ProcStats.threads(ctx.pid));
      rows.add(row);
      ctx.log("idle %s", row);
      if (connected < level) {
        ctx.log("only %d of %d connections came up; stopping here", connected, level);
        break;
      }
    }
    ctx.clients.closeAll(opened);

    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("connection_failures", ctx.clients.failures());
    Map<String, Object> last = rows.isEmpty() ? Map.of() : rows.get(rows.size() - 1);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("warmup", warmup);
    out.put("baseline_rss_mb", Latencies.round(rss0 / 1024.0));
    out.put("baseline_heap_live_mb", heap0 < 0 ? null : Latencies.round(heap0 / 1048576.0));
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "RSS per idle connection at " + last.get("connections"),
            last.get("rss_kb_per_conn"),
            "KiB",
            "lower"));
    return out;
  }

  /**
   * Opens {@code idle.warmup-connections} subscribed connections, closes them all and waits {@code
   * idle.settle-ms}, so that one-time costs (classes loaded, code compiled, allocator chunks, a
   * heap grown to its working size) land in the baseline and not in the per-connection figures. The
   * same for every server.
   */
  private static Map<String, Object> warmUp(ScenarioContext ctx, Jobs jobs) {
    Params p = ctx.params;
    int n = p.i("idle.warmup-connections");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("connections", n);
    if (n <= 0) {
      return m;
    }
    long rssBefore = ProcStats.rssKb(ctx.pid);
    List<WsConn> conns = ctx.clients.create(jobs.spread(0, n));
    long t0 = System.nanoTime();
    int connected = ctx.clients.subscribe(conns, Clients.Listener.NONE, p);
    double connectSeconds = (System.nanoTime() - t0) / 1e9;
    long rssOpen = ProcStats.rssKb(ctx.pid);
    ctx.clients.closeAll(conns);
    Clients.sleep(p.i("idle.settle-ms"));
    m.put("connected", connected);
    m.put("connect_s", Latencies.round(connectSeconds));
    m.put("rss_before_mb", Latencies.round(rssBefore / 1024.0));
    m.put("rss_open_mb", Latencies.round(rssOpen / 1024.0));
    m.put("rss_after_close_mb", Latencies.round(ProcStats.rssKb(ctx.pid) / 1024.0));
    ctx.log("idle warm-up %s", m);
    return m;
  }
}
