package io.progresshub.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput: M jobs x S subscribers each; open-loop publishing at increasing fixed rates (jobs
 * take turns); per step the deliveries per second, publish-to-receive latency percentiles and
 * server CPU per delivered message. Every {@code stage-every}-th event of a job is a stage
 * transition; at the end every job completes and every subscriber is checked for the final state
 * and for lost transitions. Stops raising the rate after the first step the server could not
 * sustain. Before the first step, an unmeasured pre-warm lets a JIT runtime reach steady state.
 */
final class ThroughputScenario implements Scenario {
  @Override
  public String name() {
    return "throughput";
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    int m = p.i("throughput.jobs");
    int s = p.i("throughput.subscribers");
    Jobs jobs = new Jobs(ctx.net, ctx.http, "tp", m, p.i("throughput.stage-every"));
    jobs.createAll();
    List<WsConn> conns = ctx.clients.create(jobs.spread(0, m * s));
    Deliveries deliveries = new Deliveries(ctx, s);
    int subscribed = ctx.clients.subscribe(conns, deliveries, p);
    ctx.log("throughput: %d jobs x %d subscribers, %d subscribed", m, s, subscribed);
    Clients.sleep(500);
    Map<String, Object> prewarm = prewarm(ctx, jobs);

    List<Map<String, Object>> rows = new ArrayList<>();
    double warmup = p.d("throughput.warmup-seconds");
    double step = p.d("throughput.step-seconds");
    for (int rate : p.ints("throughput.rates")) {
      ctx.requireServerAlive();
      Map<String, Object> row = deliveries.measure(jobs, rate, warmup, step);
      boolean sustained = Boolean.TRUE.equals(row.get("sustained"));
      rows.add(row);
      ctx.log("throughput %s", row);
      Clients.sleep(500);
      if (!sustained) {
        ctx.log("rate %d not sustained; not going higher", rate);
        break;
      }
    }
    Map<String, Object> checks = Verify.completeAndCheck(ctx, jobs, conns, 30);
    checks.put("connection_failures", ctx.clients.failures());
    ctx.log("throughput checks %s", checks);
    ctx.clients.listener = Clients.Listener.NONE;
    ctx.clients.closeAll(conns);

    double best = 0;
    for (Map<String, Object> row : rows) {
      if (Boolean.TRUE.equals(row.get("sustained"))) {
        best = Math.max(best, ((Number) row.get("deliveries_per_s")).doubleValue());
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("jobs", m);
    out.put("subscribers_per_job", s);
    out.put("connected", subscribed);
    out.put("prewarm", prewarm);
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "highest sustained deliveries/s (>= 90% of offered, p99 < 1 s)",
            Latencies.round(best), "msg/s", "higher"));
    return out;
  }

  /**
   * Publishes at {@code throughput.prewarm-rate} for {@code throughput.prewarm-seconds},
   * unmeasured, before the first step: a JIT-compiled server (the JVM, and Bun and Node too) is
   * still compiling 30-60 s into a run, which doubled the CPU per message of the early steps on the
   * reference machine. Every server gets the same pre-warm.
   */
  private static Map<String, Object> prewarm(ScenarioContext ctx, Jobs jobs) {
    int rate = ctx.params.i("throughput.prewarm-rate");
    double seconds = ctx.params.d("throughput.prewarm-seconds");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rate", rate);
    m.put("seconds", seconds);
    if (rate > 0 && seconds > 0) {
      ctx.requireServerAlive();
      OpenLoop loop = OpenLoop.run(jobs, rate, seconds);
      long skipped = ctx.net.call(() -> loop.skipped);
      m.put("published", loop.issued() - skipped);
      m.put("skipped_publishes", skipped);
      ctx.log("throughput pre-warm %s", m);
      Clients.sleep(500);
    }
    return m;
  }
}
