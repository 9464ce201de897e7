package io.progresshub.bench;

import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The jobs of a scenario and their publisher: creates them, publishes ticks (every {@code
 * stageEvery}-th event of a job moves it to the next stage {@code s<n>}, a transition that must
 * reach every subscriber), completes them, and remembers each job's last acknowledged seq. Every
 * event carries its publish time ({@code System.nanoTime()}, CLOCK_MONOTONIC, comparable across
 * processes on this machine) in {@code metadata.t}. Event loop only, except {@link #createAll}.
 */
final class Jobs {
  final ClientNetwork net;
  final HttpPool http;
  final String[] ids;
  final int stageEvery;

  /** Events published per job (sent, answered or not). */
  final long[] events;

  /** The highest seq the server acknowledged per job. */
  final long[] lastSeq;

  /** The stage of the last event sent per job. */
  final int[] stage;

  /** Extra metadata in every tick, {@code ,"pad":"xx..."} (bigger frames fill buffers sooner). */
  String padding = "";

  long accepted;
  long rejected;
  long failed;
  String firstError;
  private final MessageScan msg = new MessageScan();

  /** Makes job ids unique per generator process and per scenario (several may share a server). */
  private static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

  private static final java.util.concurrent.atomic.AtomicInteger SETS =
      new java.util.concurrent.atomic.AtomicInteger();

  Jobs(ClientNetwork net, HttpPool http, String prefix, int count, int stageEvery) {
    this.net = net;
    this.http = http;
    this.ids = new String[count];
    String unique = prefix + "-" + RUN + "-" + SETS.incrementAndGet();
    for (int i = 0; i < count; i++) {
      ids[i] = unique + "-" + i;
    }
    this.stageEvery = Math.max(1, stageEvery);
    this.events = new long[count];
    this.lastSeq = new long[count];
    this.stage = new int[count];
  }

  int count() {
    return ids.length;
  }

  /** The job ids for {@code n} subscribers spread round-robin over the jobs. */
  List<String> spread(int from, int n) {
    List<String> out = new ArrayList<>(n);
    for (int k = from; k < from + n; k++) {
      out.add(ids[k % ids.length]);
    }
    return out;
  }

  /** Creates every job (409, already there, counts as created); throws if any fails. */
  void createAll() {
    List<CompletableFuture<HttpPool.Response>> all =
        net.call(
            () -> {
              List<CompletableFuture<HttpPool.Response>> list = new ArrayList<>();
              for (int i = 0; i < ids.length; i++) {
                byte[] body = ("{\"id\":\"" + ids[i] + "\"}").getBytes(StandardCharsets.UTF_8);
                list.add(http.send(i, HttpMethod.POST, "/api/jobs", body));
              }
              return list;
            });
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      for (CompletableFuture<HttpPool.Response> f : all) {
        int status = f.get().status();
        if (status != 200 && status != 201 && status != 409) {
          throw new IllegalStateException(
              "creating a job: HTTP "
                  + status
                  + " "
                  + new String(f.get().body(), StandardCharsets.UTF_8));
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException("creating " + ids.length + " jobs failed: " + e, e);
    }
  }

  /** Publishes the next tick of job {@code j} with publish time {@code t}. */
  CompletableFuture<HttpPool.Response> tick(int j, long t) {
    long n = events[j]++;
    int s = (int) (n / stageEvery);
    stage[j] = s;
    byte[] body =
        ("{\"progress\":"
                + (n % 100)
                + ",\"stage\":\"s"
                + s
                + "\",\"message\":\"tick "
                + n
                + "\",\"metadata\":{\"t\":\""
                + t
                + "\""
                + padding
                + "}}")
            .getBytes(StandardCharsets.UTF_8);
    return track(j, http.send(j, HttpMethod.POST, "/api/jobs/" + ids[j] + "/events", body));
  }

  /** Completes job {@code j} (its terminal state, which every subscriber must get). */
  CompletableFuture<HttpPool.Response> complete(int j, long t) {
    events[j]++;
    byte[] body =
        ("{\"status\":\"completed\",\"progress\":100,\"message\":\"done\",\"metadata\":{\"t\":\""
                + t
                + "\"}}")
            .getBytes(StandardCharsets.UTF_8);
    return track(j, http.send(j, HttpMethod.POST, "/api/jobs/" + ids[j] + "/events", body));
  }

  /** One batch body: {@code {"events":[{"job_id":...,...},...]}} for the given jobs. */
  byte[] batchBody(int[] jobs, long t) {
    StringBuilder sb = new StringBuilder(jobs.length * 120 + 16).append("{\"events\":[");
    for (int k = 0; k < jobs.length; k++) {
      int j = jobs[k];
      long n = events[j]++;
      int s = (int) (n / stageEvery);
      stage[j] = s;
      if (k > 0) {
        sb.append(',');
      }
      sb.append("{\"job_id\":\"")
          .append(ids[j])
          .append("\",\"progress\":")
          .append(n % 100)
          .append(",\"stage\":\"s")
          .append(s)
          .append("\",\"message\":\"tick ")
          .append(n)
          .append("\",\"metadata\":{\"t\":\"")
          .append(t)
          .append("\"}}");
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  private CompletableFuture<HttpPool.Response> track(
      int j, CompletableFuture<HttpPool.Response> future) {
    return future.whenComplete(
        (response, error) -> {
          if (error != null) {
            failed++;
            if (firstError == null) {
              firstError = error.toString();
            }
          } else if (response.status() / 100 == 2) {
            accepted++;
            long seq = msg.parse(response.body(), response.body().length).seq;
            if (seq > lastSeq[j]) {
              lastSeq[j] = seq;
            }
          } else {
            rejected++;
            if (firstError == null) {
              firstError =
                  "HTTP "
                      + response.status()
                      + " "
                      + new String(response.body(), StandardCharsets.UTF_8);
            }
          }
        });
  }
}
