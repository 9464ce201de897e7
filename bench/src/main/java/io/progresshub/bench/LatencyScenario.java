package io.progresshub.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency at the target load: J jobs x S subscribers each (10 x 1,000: 10,000 connections),
 * open-loop publishing at a fixed total rate (100/s: 10 events/s per job, 100,000 deliveries/s), a
 * pre-warm at a lower rate, a settling period at the full rate, then one measured window:
 * deliveries per second, publish-to-receive latency percentiles, server and generator CPU per
 * delivery. Every {@code stage-every}-th event of a job is a stage transition; at the end every job
 * completes and every subscriber is checked for lost transitions, order and the final state.
 */
final class LatencyScenario implements Scenario {
  @Override
  public String name() {
    return "latency";
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    int m = p.i("latency.jobs");
    int s = p.i("latency.subscribers");
    int rate = p.i("latency.rate");
    Jobs jobs = new Jobs(ctx.net, ctx.http, "lat", m, p.i("latency.stage-every"));
    jobs.createAll();
    List<WsConn> conns = ctx.clients.create(jobs.spread(0, m * s));
    Deliveries deliveries = new Deliveries(ctx, s);
    int subscribed = ctx.clients.subscribe(conns, deliveries, p);
    ctx.log("latency: %d jobs x %d subscribers, %d subscribed", m, s, subscribed);
    Clients.sleep(500);

    ctx.requireServerAlive();
    // The pre-warm runs below the measured rate: a JIT runtime still compiling must not pile up a
    // backlog that the window then measures instead of the steady state. The settling period runs
    // at the full rate straight into the window, so the window starts with the queues as they will
    // be.
    double prewarm = p.d("latency.prewarm-seconds");
    double prewarmRate = p.d("latency.prewarm-rate");
    if (prewarm > 0) {
      OpenLoop.run(jobs, prewarmRate, prewarm);
    }
    Map<String, Object> row =
        deliveries.measure(jobs, rate, p.d("latency.settle-seconds"), p.d("latency.seconds"));
    row.put("prewarm_s", prewarm);
    row.put("prewarm_rate", prewarmRate);
    ctx.log("latency %s", row);

    Map<String, Object> checks = Verify.completeAndCheck(ctx, jobs, conns, 30);
    checks.put("connection_failures", ctx.clients.failures());
    ctx.log("latency checks %s", checks);
    ctx.clients.listener = Clients.Listener.NONE;
    ctx.clients.closeAll(conns);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("jobs", m);
    out.put("subscribers_per_job", s);
    out.put("connected", subscribed);
    out.put("rows", List.of(row));
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "p99 latency, " + m + " jobs x " + s + " subscribers at " + rate + " publish/s",
            row.get("p99_ms"),
            "ms",
            "lower"));
    return out;
  }
}
