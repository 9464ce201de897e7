package io.progresshub.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One subscriber process of the cluster scenario: opens {@code --connections} subscribers on one
 * node, spread over the given jobs, and answers the coordinating generator line by line on stdin
 * and stdout (logs go to stderr). It exists because one process holds at most ~19.9k sockets:
 * subscribers beyond that live in processes like this one, one per node.
 *
 * <pre>
 * (start)              -> subscribed N
 * measure              -> measuring            (deliveries and latency count from here)
 * stop                 -> window {json}        (count, wall and CPU, the latency histogram)
 * expect {json}        -> checks {json}        (per job: events, last acknowledged seq, last stage)
 * quit                 -> (closes the connections and exits)
 * </pre>
 */
@Command(
    name = "subscribe",
    mixinStandardHelpOptions = true,
    description = "Subscribers on one node, driven over stdin/stdout by the cluster scenario.")
final class SubscribeCommand implements Callable<Integer> {

  @Option(names = "--url", required = true, description = "http://127.0.0.1:PORT of the node")
  String url;

  @Option(names = "--jobs", required = true, split = ",", description = "Job ids to spread over.")
  List<String> jobIds;

  @Option(names = "--connections", required = true, description = "Subscribers to open.")
  int connections;

  @Option(names = "--user-prefix", defaultValue = "bench-user-", description = "Token user names.")
  String userPrefix;

  @Option(names = "--jwt-secret-env", description = "Environment variable with the HS256 secret.")
  String jwtSecretEnv;

  @Option(names = "--sources", defaultValue = "32", description = "Source addresses 127.0.0.1..N")
  int sources;

  @Option(names = "--connect-concurrency", defaultValue = "500")
  int concurrency;

  @Option(names = "--connect-timeout-seconds", defaultValue = "120")
  double connectTimeout;

  private final ObjectMapper json = new ObjectMapper();
  private final Histogram latency = Latencies.histogram();
  private boolean recording;
  private long delivered;
  private long[] live;
  private ProcStats.Cpu window;

  @Override
  public Integer call() throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    URI uri = URI.create(url);
    String secret = jwtSecretEnv == null ? null : System.getenv(jwtSecretEnv);
    Auth auth =
        secret == null
            ? Auth.none()
            : new Auth(secret.getBytes(StandardCharsets.UTF_8), userPrefix);
    try (ClientNetwork net = new ClientNetwork(uri.getHost(), uri.getPort(), sources)) {
      Clients clients = new Clients(net, auth);
      List<WsConn> conns =
          clients.create(
              java.util.stream.IntStream.range(0, connections)
                  .mapToObj(i -> jobIds.get(i % jobIds.size()))
                  .toList());
      live = new long[connections];
      clients.listener = this::onProgress;
      clients.connect(conns, concurrency);
      int subscribed = clients.awaitSubscribed(conns, connectTimeout);
      if (subscribed < connections) {
        System.err.printf("[subscribe %s] connection failures: %s%n", url, clients.failures());
      }
      out.println("subscribed " + subscribed);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("quit")) {
          break;
        }
        try {
          out.println(answer(line, net, clients, conns));
        } catch (RuntimeException e) {
          e.printStackTrace();
          out.println("error " + e);
        }
      }
      clients.listener = Clients.Listener.NONE;
      clients.closeAll(conns);
    }
    return 0;
  }

  private void onProgress(WsConn conn, MessageScan msg, long now) {
    if (msg.replay) {
      return;
    }
    live[conn.index]++;
    if (recording && msg.t > 0) {
      delivered++;
      Latencies.record(latency, now - msg.t);
    }
  }

  private String answer(String line, ClientNetwork net, Clients clients, List<WsConn> conns)
      throws Exception {
    if (line.equals("measure")) {
      window =
          net.call(
              () -> {
                latency.reset();
                delivered = 0;
                recording = true;
                return new ProcStats.Cpu(0).start();
              });
      return "measuring";
    }
    if (line.equals("stop")) {
      Map<String, Object> m =
          net.call(
              () -> {
                recording = false;
                long[] used = window.stop();
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("delivered", delivered);
                w.put("wall_us", used[2]);
                w.put("generator_cpu_us", used[1]);
                w.put("histogram", Latencies.encode(latency));
                return w;
              });
      return "window " + json.writeValueAsString(m);
    }
    if (line.startsWith("expect ")) {
      Map<?, ?> expected = json.readValue(line.substring(7), Map.class);
      return "checks " + json.writeValueAsString(check(expected, net, clients, conns));
    }
    return "error unknown command " + line;
  }

  /**
   * Waits (30 s at most) until every subscriber has its job's terminal state, then counts what is
   * missing: per job {@code [events, lastSeq, lastStage]} as the publisher saw them.
   */
  private Map<String, Object> check(
      Map<?, ?> expected, ClientNetwork net, Clients clients, List<WsConn> conns) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline
        && !net.call(() -> conns.stream().allMatch(c -> c.terminal || c.state == WsConn.CLOSED))) {
      Clients.sleep(20);
    }
    Map<String, long[]> jobs = new HashMap<>();
    expected.forEach(
        (id, v) ->
            jobs.put(
                (String) id,
                ((List<?>) v).stream().mapToLong(n -> ((Number) n).longValue()).toArray()));
    Map<String, Object> counts =
        net.call(
            () -> {
              long finalOk = 0;
              long lost = 0;
              long missing = 0;
              long extra = 0;
              long closed = 0;
              long outOfOrder = 0;
              long gaps = 0;
              for (WsConn c : conns) {
                long[] job = jobs.get(c.jobId);
                if (c.terminal && c.terminalSeq == job[1]) {
                  finalOk++;
                }
                lost += c.lostTransitions + Math.max(0, job[2] - c.lastStage);
                missing += Math.max(0, job[0] - live[c.index]);
                extra += Math.max(0, live[c.index] - job[0]);
                outOfOrder += c.outOfOrder;
                gaps += c.gaps;
                if (c.state == WsConn.CLOSED) {
                  closed++;
                }
              }
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("subscribers", (long) conns.size());
              m.put("subscribers_with_final_state", finalOk);
              m.put("missing_messages", missing);
              m.put("extra_messages", extra);
              m.put("lost_transitions", lost);
              m.put("out_of_order", outOfOrder);
              m.put("conflated_or_skipped_seqs", gaps);
              m.put("closed_early", closed);
              m.put("protocol_errors", clients.errors);
              return m;
            });
    counts.put("connection_failures", clients.failures());
    return counts;
  }
}
