package io.progresshub.bench;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every scenario gets: the network, the clients, auth, the server process, parameters. */
final class ScenarioContext implements AutoCloseable {
  final String server;
  final long pid;
  final boolean jvm;
  final Params params;
  final ClientNetwork net;
  final Auth auth;
  final Clients clients;
  final HttpPool http;
  final PrintStream log;

  /** The nodes of a cluster on one Redis (the cluster scenario only); empty otherwise. */
  List<Node> clusterNodes = List.of();

  /** The Redis server of that cluster, for its CPU (0: unknown). */
  long redisPid;

  /** One server process: where it listens and its process id (0: unknown). */
  record Node(String host, int port, long pid) {
    /** Parses {@code http://HOST:PORT,PID}. */
    static Node parse(String spec) {
      int comma = spec.lastIndexOf(',');
      if (comma < 0) {
        throw new IllegalArgumentException(spec + " (expected: http://HOST:PORT,PID)");
      }
      java.net.URI uri = java.net.URI.create(spec.substring(0, comma));
      return new Node(uri.getHost(), uri.getPort(), Long.parseLong(spec.substring(comma + 1)));
    }
  }

  ScenarioContext(
      String server,
      String host,
      int port,
      long pid,
      Params params,
      Auth auth,
      int sources,
      PrintStream log) {
    this.server = server;
    this.pid = pid;
    this.jvm = pid > 0 && ProcStats.isJvm(pid);
    this.params = params;
    this.net = new ClientNetwork(host, port, sources);
    this.auth = auth;
    this.clients = new Clients(net, auth);
    this.http = new HttpPool(net, params.i("http.connections"), auth.publisherToken());
    this.log = log;
  }

  void log(String format, Object... args) {
    log.printf("[%s] %s%n", server, String.format(format, args));
    log.flush();
  }

  ProcStats.Cpu cpu() {
    return new ProcStats.Cpu(pid).start();
  }

  /** Server and generator CPU of a phase as a map (microseconds and utilisation of one core). */
  static Map<String, Object> cpu(long[] cpu) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("server_cpu_ms", cpu[0] < 0 ? null : cpu[0] / 1000.0);
    m.put("server_cpu_util", cpu[0] < 0 ? null : Latencies.round((double) cpu[0] / cpu[2]));
    m.put("generator_cpu_util", Latencies.round((double) cpu[1] / cpu[2]));
    m.put("wall_s", Latencies.round(cpu[2] / 1e6));
    return m;
  }

  /** Checks the server is still running; throws if it died. */
  void requireServerAlive() {
    if (pid > 0 && !ProcStats.alive(pid)) {
      throw new IllegalStateException("the server process " + pid + " is gone");
    }
  }

  @Override
  public void close() {
    http.close();
    net.close();
  }
}
