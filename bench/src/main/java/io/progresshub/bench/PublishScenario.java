package io.progresshub.bench;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Publish throughput: events per second accepted over HTTP (for progress-hub: durable in SQLite
 * before the answer), closed loop: C keep-alive connections each send the next request as soon as
 * the last one is answered. Once with {@code POST /api/jobs/{id}/events}, once with {@code POST
 * /api/events/batch}.
 */
final class PublishScenario implements Scenario {
  @Override
  public String name() {
    return "publish";
  }

  @Override
  public Map<String, Object> run(ScenarioContext ctx) {
    Params p = ctx.params;
    int jobsCount = p.i("publish.jobs");
    double seconds = p.d("publish.seconds");
    List<Map<String, Object>> rows = new ArrayList<>();

    int c1 = p.i("publish.connections");
    HttpPool single = new HttpPool(ctx.net, c1, ctx.auth.publisherToken());
    Jobs jobs = new Jobs(ctx.net, single, "pub", jobsCount, 10);
    jobs.createAll();
    rows.add(closedLoop(ctx, jobs, single, c1, 1, seconds));
    single.close();

    int c2 = p.i("publish.batch-connections");
    HttpPool batch = new HttpPool(ctx.net, c2, ctx.auth.publisherToken());
    Jobs batchJobs = new Jobs(ctx.net, batch, "pubb", jobsCount, 10);
    batchJobs.createAll();
    rows.add(closedLoop(ctx, batchJobs, batch, c2, p.i("publish.batch-size"), seconds));
    batch.close();

    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("rejected_single", rows.get(0).get("rejected_events"));
    checks.put("rejected_batch", rows.get(1).get("rejected_events"));
    checks.put(
        "failed_requests",
        (long) rows.get(0).get("failed_requests") + (long) rows.get(1).get("failed_requests"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rows", rows);
    out.put("checks", checks);
    out.put(
        "headline",
        Scenario.headline(
            "events/s accepted, single-event endpoint",
            rows.get(0).get("events_per_s"),
            "ev/s",
            "higher"));
    return out;
  }

  private static final class Loop {
    boolean running = true;
    long requests;
    long events;
    long rejected;
    long failed;
    String firstError;
    final Histogram latency = Latencies.histogram();
  }

  private static Map<String, Object> closedLoop(
      ScenarioContext ctx,
      Jobs jobs,
      HttpPool http,
      int connections,
      int batchSize,
      double seconds) {
    ctx.requireServerAlive();
    double warmup = ctx.params.d("publish.warmup-seconds");
    if (warmup > 0) {
      // The same load, not measured: JIT compilation and pools settle first.
      Loop warm = new Loop();
      ctx.net.run(
          () -> {
            for (int w = 0; w < connections; w++) {
              next(jobs, http, warm, w, connections, batchSize);
            }
          });
      Clients.sleep((long) (warmup * 1000));
      ctx.net.run(() -> warm.running = false);
      OpenLoop.awaitAnswered(jobs, 10);
    }
    Loop loop = new Loop();
    ProcStats.Cpu cpu =
        ctx.net.call(
            () -> {
              for (int w = 0; w < connections; w++) {
                next(jobs, http, loop, w, connections, batchSize);
              }
              return ctx.cpu();
            });
    Clients.sleep((long) (seconds * 1000));
    ctx.net.run(() -> loop.running = false);
    long[] used = cpu.stop();
    OpenLoop.awaitAnswered(jobs, 10);
    return ctx.net.call(
        () -> {
          double wall = used[2] / 1e6;
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("endpoint", batchSize == 1 ? "single" : "batch");
          row.put("batch_size", batchSize);
          row.put("connections", connections);
          row.put("events_per_s", Latencies.round(loop.events / wall));
          row.put("requests_per_s", Latencies.round(loop.requests / wall));
          Map<String, Object> lat = Latencies.summary(loop.latency);
          row.put("request_p50_ms", lat.get("p50_ms"));
          row.put("request_p99_ms", lat.get("p99_ms"));
          row.put("request_p999_ms", lat.get("p999_ms"));
          row.put(
              "server_cpu_us_per_event",
              used[0] < 0 || loop.events == 0
                  ? null
                  : Latencies.round((double) used[0] / loop.events));
          row.putAll(ScenarioContext.cpu(used));
          row.put("rejected_events", loop.rejected);
          row.put("failed_requests", loop.failed);
          if (loop.firstError != null) {
            row.put("first_error", loop.firstError);
          }
          ctx.log("publish %s", row);
          return row;
        });
  }

  /**
   * Worker {@code w} publishes to its own jobs (j % connections == w), so each job stays in order.
   */
  private static void next(
      Jobs jobs, HttpPool http, Loop loop, int w, int connections, int batchSize) {
    if (!loop.running) {
      return;
    }
    int own = Math.max(1, (jobs.count() - w + connections - 1) / connections);
    long start = System.nanoTime();
    if (batchSize == 1) {
      int j = (int) ((w + (loop.requests % own) * connections) % jobs.count());
      jobs.tick(j, start)
          .whenComplete(
              (r, e) -> {
                done(loop, r, e, 1, start);
                next(jobs, http, loop, w, connections, batchSize);
              });
    } else {
      int[] batch = new int[batchSize];
      for (int k = 0; k < batchSize; k++) {
        batch[k] =
            (int) ((w + ((loop.requests * batchSize + k) % own) * connections) % jobs.count());
      }
      http.send(w, HttpMethod.POST, "/api/events/batch", jobs.batchBody(batch, start))
          .whenComplete(
              (r, e) -> {
                done(loop, r, e, batchSize, start);
                next(jobs, http, loop, w, connections, batchSize);
              });
    }
  }

  private static void done(Loop loop, HttpPool.Response r, Throwable e, int events, long start) {
    if (!loop.running) {
      return; // answered after the measured window
    }
    loop.requests++;
    Latencies.record(loop.latency, System.nanoTime() - start);
    if (e != null) {
      loop.failed++;
      if (loop.firstError == null) {
        loop.firstError = e.toString();
      }
    } else if (r.status() / 100 != 2) {
      loop.rejected += events;
      if (loop.firstError == null) {
        loop.firstError =
            "HTTP "
                + r.status()
                + " "
                + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
      }
    } else {
      int accepted = events == 1 ? 1 : acceptedInBatch(r.body(), events);
      loop.events += accepted;
      loop.rejected += events - accepted;
    }
  }

  /** {@code "accepted": N} from a batch answer, or the batch size when the answer has no count. */
  private static int acceptedInBatch(byte[] body, int events) {
    String s = new String(body, java.nio.charset.StandardCharsets.UTF_8);
    int i = s.indexOf("\"accepted\"");
    if (i < 0) {
      return events;
    }
    int k = s.indexOf(':', i) + 1;
    while (k < s.length() && s.charAt(k) == ' ') {
      k++;
    }
    int e = k;
    while (e < s.length() && Character.isDigit(s.charAt(e))) {
      e++;
    }
    return e > k ? Integer.parseInt(s.substring(k, e)) : events;
  }
}
