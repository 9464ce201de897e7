package io.progresshub.bench;

import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Slow consumer: one job, S normal subscribers and one that reads a few hundred bytes every few
 * milliseconds (a small receive buffer, auto-read off). Phase 1 publishes at a fixed rate with
 * everyone reading normally (baseline); phase 2 publishes the same with the slow reader slow. The
 * others' latency must not change; the slow one must still get every transition and the final
 * state; how many of its ticks were conflated is reported.
 */
final class SlowConsumerScenario implements Scenario {
  @Override
  public String name() {
    return "slow";
  }

  private static final class State {
    boolean recording;
    final Histogram others = Latencies.histogram();
    final Histogram slow = Latencies.histogram();
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    int s = p.i("slow.subscribers");
    int rate = p.i("slow.rate");
    double seconds = p.d("slow.seconds");
    Jobs jobs = new Jobs(ctx.net, ctx.http, "slow", 1, p.i("slow.stage-every"));
    int pad = p.i("slow.padding");
    jobs.padding = pad <= 0 ? "" : ",\"pad\":\"" + "x".repeat(pad) + "\"";
    jobs.createAll();
    List<WsConn> conns = ctx.clients.create(jobs.spread(0, s + 1));
    WsConn slow = conns.get(conns.size() - 1);
    List<WsConn> others = conns.subList(0, s);
    int readBytes = p.i("slow.read-bytes");
    slow.slowReadBytes = readBytes;
    State st = new State();
    int subscribed =
        ctx.clients.subscribe(
            conns,
            (conn, msg, now) -> {
              if (st.recording && !msg.replay && msg.t > 0) {
                Latencies.record(conn == slow ? st.slow : st.others, now - msg.t);
              }
            },
            p);
    ctx.log("slow consumer: %d + 1 subscribers, %d subscribed", s, subscribed);
    Clients.sleep(300);

    // Warm-up (not recorded): the server's JIT and buffers settle on this load first.
    double warmup = p.d("slow.warmup-seconds");
    if (warmup > 0) {
      OpenLoop.run(jobs, rate, warmup);
    }
    // Phase 1: baseline, everyone fast.
    Map<String, Object> baseline = phase(ctx, jobs, st, rate, seconds);
    long slowBefore = ctx.net.call(() -> slow.received);
    long eventsBefore = ctx.net.call(() -> jobs.events[0]);
    // Phase 2: one slow reader.
    ScheduledFuture<?> reader =
        ctx.net.call(
            () -> {
              slow.readSlowly();
              return ctx.net.loop.scheduleAtFixedRate(
                  slow::readOnce, 0, p.i("slow.read-every-ms"), TimeUnit.MILLISECONDS);
            });
    Map<String, Object> withSlow = phase(ctx, jobs, st, rate, seconds);

    long slowDuringPhase = ctx.net.call(() -> slow.received) - slowBefore;
    long eventsDuringPhase = ctx.net.call(() -> jobs.events[0]) - eventsBefore;
    Map<String, Object> slowLatency = ctx.net.call(() -> Latencies.summary(st.slow));

    // Complete the job, let the slow reader catch up at full speed, then check everyone. A server
    // that bounds its memory may have cut the slow reader off (close 4008); it then does what any
    // client does: reconnects with since = the last seq it has, and must still miss nothing.
    long drainStart = System.nanoTime();
    int[] cutOff = {-2};
    ctx.net.run(
        () -> {
          reader.cancel(false);
          slow.readFast();
        });
    // Like any client, it reconnects whenever it finds itself closed, however late the cut-off
    // comes (a loaded machine stretches every timer on both sides).
    ScheduledFuture<?> reconnects =
        ctx.net.call(
            () ->
                ctx.net.loop.scheduleAtFixedRate(
                    () -> {
                      if (slow.state == WsConn.CLOSED) {
                        if (cutOff[0] == -2) {
                          cutOff[0] = slow.closeCode;
                        }
                        slow.since = slow.lastSeq;
                        slow.connect();
                      }
                    },
                    0,
                    200,
                    TimeUnit.MILLISECONDS));
    Map<String, Object> checks;
    try {
      Clients.sleep(3000); // what is on its way arrives, or the cut-off shows
      checks = Verify.completeAndCheck(ctx, jobs, conns, 60, true);
    } finally {
      reconnects.cancel(false);
    }
    double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
    Map<String, Object> slowReport =
        ctx.net.call(
            () -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("published_events_in_slow_phase", eventsDuringPhase);
              m.put("received_in_slow_phase", slowDuringPhase);
              m.put("received_total", slow.received);
              m.put("conflated_or_skipped_seqs", slow.gaps);
              m.put("lost_transitions", slow.lostTransitions);
              m.put("out_of_order", slow.outOfOrder);
              m.put("got_final_state", slow.terminal && slow.terminalSeq == jobs.lastSeq[0]);
              m.put("final_seq", jobs.lastSeq[0]);
              m.put("cut_off", cutOff[0] != -2);
              m.put(
                  "cut_off_close_code",
                  cutOff[0] == -2 ? null : cutOff[0] < 0 ? "none (TCP close)" : cutOff[0]);
              m.put("reconnects", slow.connects - 1);
              m.put("drain_s", Latencies.round(drainSeconds));
              m.put("latency_in_slow_phase", slowLatency);
              return m;
            });
    checks.put("others_lost_transitions", ctx.clients.sum(others, c -> c.lostTransitions));
    checks.put("others_conflated_or_skipped_seqs", ctx.clients.sum(others, c -> c.gaps));
    checks.put("connection_failures", ctx.clients.failures());
    ctx.clients.listener = Clients.Listener.NONE;
    ctx.clients.closeAll(conns);

    Object p99Base = baseline.get("p99_ms");
    Object p99Slow = withSlow.get("p99_ms");
    Double ratio =
        p99Base instanceof Number a && p99Slow instanceof Number b && a.doubleValue() > 0
            ? (Double) Latencies.round(b.doubleValue() / a.doubleValue())
            : null;
    List<Map<String, Object>> rows = new ArrayList<>();
    baseline.put("phase", "all fast");
    withSlow.put("phase", "one slow reader");
    rows.add(baseline);
    rows.add(withSlow);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("subscribers", s);
    out.put("rate", rate);
    out.put("rows", rows);
    out.put("slow_subscriber", slowReport);
    out.put("others_p99_ratio_slow_vs_baseline", ratio);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "others' p99 with one slow reader", withSlow.get("p99_ms"), "ms", "lower"));
    ctx.log("slow consumer: %s", out);
    return out;
  }

  /** Publishes at {@code rate} for {@code seconds}; the others' latency over the phase. */
  private static Map<String, Object> phase(
      ScenarioContext ctx, Jobs jobs, State st, int rate, double seconds) {
    ProcStats.Cpu cpu =
        ctx.net.call(
            () -> {
              st.others.reset();
              st.slow.reset();
              st.recording = true;
              return ctx.cpu();
            });
    OpenLoop.run(jobs, rate, seconds);
    Clients.sleep(300);
    long[] used = cpu.stop();
    Map<String, Object> m = new LinkedHashMap<>(ctx.net.call(() -> Latencies.summary(st.others)));
    ctx.net.run(() -> st.recording = false);
    m.putAll(ScenarioContext.cpu(used));
    return m;
  }
}
