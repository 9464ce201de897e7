package io.progresshub.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The publishing side of the cluster scenario: the jobs, each published through one node (job
 * {@code j} through node {@code j % n}, so the nodes share the publishing evenly and a job's events
 * reach the cluster in order), with a network and an HTTP pool per node.
 */
final class ClusterPublisher implements AutoCloseable {
  private final List<ClientNetwork> nets = new ArrayList<>();
  private final List<HttpPool> pools = new ArrayList<>();
  private final List<Jobs> jobs = new ArrayList<>();
  private final List<OpenLoop> loops = new ArrayList<>();
  long rejected;
  long failed;

  /** Creates {@code jobCount} jobs spread over {@code nodes}. */
  ClusterPublisher(ScenarioContext ctx, List<ScenarioContext.Node> nodes, int jobCount) {
    Params p = ctx.params;
    int n = nodes.size();
    for (int k = 0; k < n; k++) {
      ScenarioContext.Node node = nodes.get(k);
      ClientNetwork net = new ClientNetwork(node.host(), node.port(), 32);
      nets.add(net);
      HttpPool pool = new HttpPool(net, p.i("http.connections"), ctx.auth.publisherToken());
      pools.add(pool);
      int count = jobCount / n + (k < jobCount % n ? 1 : 0);
      Jobs set = new Jobs(net, pool, "cluster-" + k, count, p.i("cluster.stage-every"));
      set.createAll();
      jobs.add(set);
    }
  }

  List<String> ids() {
    List<String> ids = new ArrayList<>();
    jobs.forEach(set -> ids.addAll(List.of(set.ids)));
    return ids;
  }

  /** Starts publishing open loop at {@code rate} events/s in total for {@code seconds}. */
  void start(double rate, double seconds) {
    for (Jobs set : jobs) {
      loops.add(new OpenLoop(set, rate / jobs.size(), seconds).start());
    }
  }

  /** Waits until the planned events are sent and answered; returns how many were skipped. */
  long awaitDone() {
    long skipped = 0;
    for (int k = 0; k < loops.size(); k++) {
      OpenLoop loop = loops.get(k);
      loop.awaitSent(0);
      OpenLoop.awaitAnswered(jobs.get(k), 10);
      skipped += nets.get(k).call(() -> loop.skipped);
    }
    return skipped;
  }

  /**
   * Completes every job and returns, per job id, what each subscriber must have seen: {@code
   * [events, last acknowledged seq, last stage]}. Counts rejected and failed publishes.
   */
  Map<String, List<Long>> completeAll() {
    for (Jobs set : jobs) {
      set.net.run(
          () -> {
            long t = System.nanoTime();
            for (int j = 0; j < set.count(); j++) {
              set.complete(j, t);
            }
          });
    }
    Map<String, List<Long>> expected = new LinkedHashMap<>();
    for (Jobs set : jobs) {
      OpenLoop.awaitAnswered(set, 30);
      set.net.run(
          () -> {
            rejected += set.rejected;
            failed += set.failed;
            for (int j = 0; j < set.count(); j++) {
              expected.put(set.ids[j], List.of(set.events[j], set.lastSeq[j], (long) set.stage[j]));
            }
          });
    }
    return expected;
  }

  @Override
  public void close() {
    pools.forEach(HttpPool::close);
    nets.forEach(ClientNetwork::close);
  }
}
