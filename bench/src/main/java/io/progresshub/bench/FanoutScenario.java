package io.progresshub.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Fan-out: N subscribers of one job (1k, 10k, 19k); one publish at a time; the time from the
 * publish until the LAST subscriber has the message (and the spread across subscribers), over a
 * number of rounds after a warm-up.
 */
final class FanoutScenario implements Scenario {
  @Override
  public String name() {
    return "fanout";
  }

  /** Loop-only state of the current round. */
  private static final class Round {
    long t = -1;
    int received;
    long lastArrival;
    final Histogram latency = Latencies.histogram();
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    List<Map<String, Object>> rows = new ArrayList<>();
    long lost = 0;
    long outOfOrder = 0;
    for (int level : p.ints("fanout.levels")) {
      ctx.requireServerAlive();
      Jobs jobs = new Jobs(ctx.net, ctx.http, "fan-" + level, 1, 1_000_000);
      jobs.createAll();
      List<WsConn> conns = ctx.clients.create(jobs.spread(0, level));
      Round round = new Round();
      int subscribers =
          ctx.clients.subscribe(
              conns,
              (conn, m, now) -> {
                if (!m.replay && m.t == round.t) {
                  round.received++;
                  round.lastArrival = now;
                  Latencies.record(round.latency, now - m.t);
                }
              },
              p);
      ctx.log("fan-out %d: %d subscribed", level, subscribers);
      Clients.sleep(500);

      int warmup = p.i("fanout.warmup-rounds");
      int rounds = p.i("fanout.rounds");
      double[] lastMs = new double[rounds];
      double[] p50 = new double[rounds];
      double[] p99 = new double[rounds];
      long delivered = 0;
      long missing = 0;
      ProcStats.Cpu cpu = null;
      long[] cpuUsed = {0, 0, 0};
      for (int r = -warmup; r < rounds; r++) {
        if (r == 0) {
          cpu = ctx.cpu();
        }
        long t =
            ctx.net.call(
                () -> {
                  round.t = System.nanoTime();
                  round.received = 0;
                  round.lastArrival = 0;
                  round.latency.reset();
                  jobs.tick(0, round.t);
                  return round.t;
                });
        long deadline = System.nanoTime() + 30_000_000_000L;
        int got = 0;
        while (System.nanoTime() < deadline) {
          got = ctx.net.call(() -> round.received);
          if (got >= subscribers) {
            break;
          }
          Clients.sleep(1);
        }
        if (r >= 0) {
          final int idx = r;
          ctx.net.run(
              () -> {
                lastMs[idx] = round.lastArrival == 0 ? Double.NaN : (round.lastArrival - t) / 1e6;
                p50[idx] = Latencies.ms(round.latency, 50);
                p99[idx] = Latencies.ms(round.latency, 99);
              });
          delivered += got;
          missing += Math.max(0, subscribers - got);
        }
        if (r == rounds - 1) {
          cpuUsed = cpu.stop();
        }
        Clients.sleep(100);
      }
      long[] finalCpu = cpuUsed;
      lost += ctx.clients.sum(conns, c -> c.lostTransitions);
      outOfOrder += ctx.clients.sum(conns, c -> c.outOfOrder);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("subscribers", level);
      row.put("connected", subscribers);
      row.put("rounds", rounds);
      row.put("last_ms_median", Latencies.round(median(lastMs)));
      row.put("last_ms_min", Latencies.round(Arrays.stream(lastMs).min().orElse(Double.NaN)));
      row.put("last_ms_max", Latencies.round(Arrays.stream(lastMs).max().orElse(Double.NaN)));
      row.put("p50_ms_median", Latencies.round(median(p50)));
      row.put("p99_ms_median", Latencies.round(median(p99)));
      row.put("delivered", delivered);
      row.put("missing", missing);
      row.put(
          "server_cpu_us_per_delivery",
          finalCpu[0] < 0 || delivered == 0
              ? null
              : Latencies.round((double) finalCpu[0] / delivered));
      row.put(
          "generator_cpu_us_per_delivery",
          delivered == 0 ? null : Latencies.round((double) finalCpu[1] / delivered));
      rows.add(row);
      ctx.log("fan-out %s", row);
      ctx.clients.closeAll(conns);
      Clients.sleep(500);
    }
    ctx.clients.listener = Clients.Listener.NONE;
    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("missing_deliveries", rows.stream().mapToLong(r -> (long) r.get("missing")).sum());
    checks.put("out_of_order", outOfOrder);
    checks.put("lost_transitions", lost);
    checks.put("connection_failures", ctx.clients.failures());
    Map<String, Object> last = rows.isEmpty() ? Map.of() : rows.get(rows.size() - 1);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "time until the last of " + last.get("subscribers") + " subscribers has it (median)",
            last.get("last_ms_median"),
            "ms",
            "lower"));
    return out;
  }

  static double median(double[] values) {
    double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
