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
 * sustain.
 */
final class ThroughputScenario implements Scenario {
  @Override
  public String name() {
    return "throughput";
  }

  @Override
  public Map<String, Object> run(Ctx ctx) {
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
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "highest sustained deliveries/s (>= 90% of offered, p99 < 1 s)",
            Lat.round(best), "msg/s", "higher"));
    return out;
  }
}
