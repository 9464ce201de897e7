package io.progresshub.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs scenarios against one running server and writes one JSON file per scenario. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run scenarios against a server.")
final class RunCommand implements Callable<Integer> {

  @Option(
      names = "--server",
      required = true,
      description = "Name in the results (progress-hub, bun, ws).")
  String server;

  @Option(names = "--url", required = true, description = "http://127.0.0.1:PORT")
  String url;

  @Option(
      names = "--pid",
      defaultValue = "0",
      description = "Server process id, for CPU and memory (0: none).")
  long pid;

  @Option(
      names = "--scenarios",
      required = true,
      split = ",",
      description = "idle, fanout, throughput, latency, slow, storm, publish, cluster")
  List<String> scenarios;

  @Option(names = "--smoke", description = "Seconds and tiny numbers (CI).")
  boolean smoke;

  @Option(names = "--set", description = "Override a parameter: key=value (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--jwt-secret-env",
      description =
          "Environment variable holding the server's HS256 secret; tokens are minted with it.")
  String jwtSecretEnv;

  @Option(
      names = "--sources",
      defaultValue = "32",
      description = "Source addresses 127.0.0.1..127.0.0.N (default 32).")
  int sources;

  @Option(
      names = "--cluster-node",
      description = "A node of a cluster on one Redis, http://HOST:PORT,PID (repeatable).")
  List<String> clusterNodes = new ArrayList<>();

  @Option(
      names = "--redis-pid",
      defaultValue = "0",
      description = "The cluster's redis-server process id.")
  long redisPid;

  @Option(names = "--out", required = true, description = "Directory for <scenario>-<server>.json")
  Path out;

  @Override
  public Integer call() throws Exception {
    URI uri = URI.create(url);
    Params params = (smoke ? Params.smoke() : Params.full()).with(overrides);
    byte[] secret = null;
    if (jwtSecretEnv != null && System.getenv(jwtSecretEnv) != null) {
      secret = System.getenv(jwtSecretEnv).getBytes(StandardCharsets.UTF_8);
    }
    Files.createDirectories(out);
    int failures = 0;
    for (String name : scenarios) {
      Map<String, Object> result =
          runOne(name, uri, params, secret == null ? Auth.none() : new Auth(secret));
      Path file = out.resolve(name + "-" + server + ".json");
      mapper().writeValue(file.toFile(), result);
      System.out.println("wrote " + file);
      if (result.containsKey("error")) {
        failures++;
      }
    }
    return failures == 0 ? 0 : 1;
  }

  private Map<String, Object> runOne(String name, URI uri, Params params, Auth auth) {
    Scenario scenario = Scenario.named(name);
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("server", server);
    record.put("scenario", name);
    record.put("smoke", smoke);
    record.put("started_at", Instant.now().toString());
    record.put("params", params.subset(name));
    record.put("auth", auth.enabled() ? "jwt-hs256" : "none");
    record.put("server_pid", pid);
    long t0 = System.nanoTime();
    try (ScenarioContext ctx =
        new ScenarioContext(
            server, uri.getHost(), uri.getPort(), pid, params, auth, sources, System.out)) {
      ctx.clusterNodes = clusterNodes.stream().map(ScenarioContext.Node::parse).toList();
      ctx.redisPid = redisPid;
      record.put("server_is_jvm", ctx.jvm);
      record.put("transport", ctx.net.epoll ? "epoll" : "nio");
      record.put("server_rss_start_mb", Latencies.round(ProcStats.rssKb(pid) / 1024.0));
      Map<String, Object> result = scenario.run(ctx);
      record.putAll(result);
      record.put("server_rss_end_mb", Latencies.round(ProcStats.rssKb(pid) / 1024.0));
    } catch (Exception | AssertionError e) {
      e.printStackTrace();
      record.put("error", e.toString());
    }
    record.put("duration_s", Latencies.round((System.nanoTime() - t0) / 1e9));
    return record;
  }

  static ObjectMapper mapper() {
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  }
}
