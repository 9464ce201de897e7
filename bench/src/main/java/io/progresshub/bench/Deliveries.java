package io.progresshub.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Live deliveries over a measured window of open-loop publishing, for scenarios whose jobs have the
 * same number of subscribers each (throughput, latency). As the clients' listener it counts live
 * deliveries and records their publish-to-receive latency, but only while a window is open; {@link
 * #measure} opens one after a warm-up at the same rate. State is event-loop only.
 */
final class Deliveries implements Clients.Listener {
  private final ScenarioContext ctx;
  private final int subscribersPerJob;
  private final Histogram latency = Latencies.histogram();
  private boolean recording;
  private long delivered;

  Deliveries(ScenarioContext ctx, int subscribersPerJob) {
    this.ctx = ctx;
    this.subscribersPerJob = subscribersPerJob;
  }

  @Override
  public void onProgress(WsConn conn, MessageScan msg, long nowNanos) {
    if (recording && !msg.replay && msg.t > 0) {
      delivered++;
      Latencies.record(latency, nowNanos - msg.t);
    }
  }

  /**
   * Publishes to {@code jobs} open loop at {@code rate} events/s for {@code warmup + seconds},
   * records the last {@code seconds} only, then waits for the last requests to be answered. The
   * row: offered and delivered messages per second, the latency summary ({@link
   * Latencies#summary}), server and generator CPU per delivery and utilisation, skipped publishes,
   * and {@code sustained}: at least 90% of the offered deliveries arrived, nothing was skipped and
   * p99 stayed under 1 s.
   */
  Map<String, Object> measure(Jobs jobs, int rate, double warmup, double seconds) {
    OpenLoop loop = new OpenLoop(jobs, rate, warmup + seconds).start();
    Clients.sleep((long) (warmup * 1000));
    ProcStats.Cpu cpu =
        ctx.net.call(
            () -> {
              latency.reset();
              delivered = 0;
              recording = true;
              return ctx.cpu();
            });
    Clients.sleep((long) (seconds * 1000));
    Map<String, Object> summary =
        ctx.net.call(
            () -> {
              recording = false;
              return Latencies.summary(latency);
            });
    long[] used = cpu.stop();
    long count = ctx.net.call(() -> delivered);
    loop.awaitSent(0);
    OpenLoop.awaitAnswered(jobs, 10);
    long skipped = ctx.net.call(() -> loop.skipped);

    double offered = (double) rate * subscribersPerJob;
    double perSecond = count / (used[2] / 1e6);
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("publish_rate", rate);
    row.put("offered_deliveries_per_s", Latencies.round(offered));
    row.put("deliveries_per_s", Latencies.round(perSecond));
    row.putAll(summary);
    row.put(
        "server_cpu_us_per_delivery",
        used[0] < 0 || count == 0 ? null : Latencies.round((double) used[0] / count));
    row.put(
        "generator_cpu_us_per_delivery",
        count == 0 ? null : Latencies.round((double) used[1] / count));
    row.putAll(ScenarioContext.cpu(used));
    row.put("skipped_publishes", skipped);
    row.put(
        "sustained",
        perSecond >= 0.9 * offered
            && skipped == 0
            && summary.get("p99_ms") instanceof Number p99
            && p99.doubleValue() < 1000);
    return row;
  }
}
