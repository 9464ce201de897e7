package io.progresshub.bench;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Reconnect storm: N subscribers over J jobs while events keep coming at a fixed rate (many of them
 * stage transitions); all N drop at once and reconnect at once with {@code ?since=<last seq seen>}.
 * Measures the time until every client is resumed (subscribed again and caught up to the seq the
 * job had when it dropped), and checks that nothing was missed: no lost transition, no seq twice,
 * the final state everywhere.
 */
final class ReconnectStormScenario implements Scenario {
  @Override
  public String name() {
    return "storm";
  }

  private static final class State {
    boolean storming;
    long dropAt;
    int resumed;
    long lastResume;
    final Map<String, Long> target = new HashMap<>();
    final Histogram resume = Latencies.histogram();

    void reset() {
      storming = false;
      resumed = 0;
      target.clear();
      resume.reset();
    }
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    int n = p.i("storm.connections");
    int j = p.i("storm.jobs");
    int rate = p.i("storm.rate");
    Jobs jobs = new Jobs(ctx.net, ctx.http, "storm", j, p.i("storm.stage-every"));
    jobs.createAll();
    List<WsConn> conns = ctx.clients.create(jobs.spread(0, n));
    State st = new State();
    Clients.Listener check =
        new Clients.Listener() {
          @Override
          public void onSubscribed(WsConn conn) {
            resumedCheck(conn);
          }

          @Override
          public void onProgress(WsConn conn, MessageScan msg, long now) {
            resumedCheck(conn);
          }

          private void resumedCheck(WsConn conn) {
            if (st.storming && conn.mark == 1 && conn.subscribed) {
              Long target = st.target.get(conn.jobId);
              if (target == null || conn.lastSeq >= target) {
                conn.mark = 2;
                st.resumed++;
                long now = System.nanoTime();
                st.lastResume = now;
                Latencies.record(st.resume, now - st.dropAt);
              }
            }
          }
        };
    int subscribed = ctx.clients.subscribe(conns, check, p);
    ctx.log("storm: %d subscribers over %d jobs, %d subscribed", n, j, subscribed);

    OpenLoop loop = new OpenLoop(jobs, rate, 0).start();
    Clients.sleep((long) (p.d("storm.before-seconds") * 1000));
    ctx.requireServerAlive();

    // Warm-up storms, unmeasured and the same for every server: a JIT runtime compiles its
    // reconnect path on them, so the measured storm is not a cold start.
    int warmups = p.i("storm.warmup-rounds");
    for (int round = 0; round < warmups; round++) {
      storm(ctx, conns, st).stop();
      ctx.log("storm: warm-up round %d: %d resumed", round + 1, ctx.net.call(() -> st.resumed));
      ctx.net.run(st::reset);
      Clients.sleep((long) (p.d("storm.before-seconds") * 1000));
      ctx.requireServerAlive();
    }
    ProcStats.Cpu cpu = storm(ctx, conns, st);
    long[] used = cpu.stop();
    Map<String, Object> storm =
        ctx.net.call(
            () -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("clients", conns.size());
              m.put("resumed", st.resumed);
              m.put(
                  "all_resumed_s",
                  st.resumed == 0 ? null : Latencies.round((st.lastResume - st.dropAt) / 1e9));
              m.put("resume_p50_ms", Latencies.round(Latencies.ms(st.resume, 50)));
              m.put("resume_p99_ms", Latencies.round(Latencies.ms(st.resume, 99)));
              m.put("resume_max_ms", Latencies.round(Latencies.ms(st.resume, 100)));
              m.put(
                  "server_cpu_us_per_reconnect",
                  used[0] < 0 ? null : Latencies.round((double) used[0] / conns.size()));
              return m;
            });
    ctx.log("storm: %s", storm);
    Clients.sleep((long) (p.d("storm.after-seconds") * 1000));
    loop.stop();
    OpenLoop.awaitAnswered(jobs, 10);
    storm.put("skipped_publishes", ctx.net.call(() -> loop.skipped));
    Map<String, Object> checks = Verify.completeAndCheck(ctx, jobs, conns, 30);
    checks.put("connection_failures", ctx.clients.failures());
    ctx.log("storm checks %s", checks);
    ctx.clients.listener = Clients.Listener.NONE;
    ctx.clients.closeAll(conns);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rate", rate);
    out.put("rows", List.of(storm));
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "time until all " + conns.size() + " clients are resumed",
            storm.get("all_resumed_s"),
            "s",
            "lower"));
    return out;
  }

  /** Drops every client at once and reconnects it with {@code since}; returns once all resumed. */
  private static ProcStats.Cpu storm(ScenarioContext ctx, List<WsConn> conns, State st) {
    ProcStats.Cpu cpu =
        ctx.net.call(
            () -> {
              for (WsConn c : conns) {
                st.target.merge(c.jobId, c.lastSeq, Math::max);
              }
              st.storming = true;
              st.dropAt = System.nanoTime();
              for (WsConn c : conns) {
                c.since = c.lastSeq;
                c.mark = 1;
                c.drop();
                c.connect();
              }
              return ctx.cpu();
            });
    // Everyone reconnects at once: no pacing.
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      int[] s =
          ctx.net.call(
              () -> {
                int closed = 0;
                for (WsConn c : conns) {
                  if (c.state == WsConn.CLOSED) {
                    closed++;
                  }
                }
                return new int[] {st.resumed, closed};
              });
      if (s[0] + s[1] >= conns.size()) {
        break;
      }
      Clients.sleep(5);
    }
    return cpu;
  }
}
