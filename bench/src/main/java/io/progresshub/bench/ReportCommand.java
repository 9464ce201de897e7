package io.progresshub.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Merges the per-scenario JSON files of a run into results.json, results.md (tables, ours vs the
 * reference servers, with ratios) and latency-vs-load.png.
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = "Write results.json, results.md and the chart.")
final class ReportCommand implements Callable<Integer> {

  @Parameters(index = "0", description = "The run directory (with raw/*.json).")
  Path dir;

  @Option(names = "--meta", description = "key=value to record (versions, flags); repeatable.")
  List<String> meta = new ArrayList<>();

  static final List<String> SERVER_ORDER = List.of("progress-hub", "bun", "ws");
  static final String OURS = "progress-hub";

  /** Columns shown per scenario: row key, header. */
  static final Map<String, List<String[]>> COLUMNS = new LinkedHashMap<>();

  static {
    COLUMNS.put(
        "idle",
        List.of(
            col("connections", "connections"),
            col("connected", "up"),
            col("rss_mb", "RSS MiB"),
            col("rss_kb_per_conn", "RSS KiB/conn"),
            col("heap_bytes_per_conn", "live heap B/conn"),
            col("connects_per_s", "connects/s"),
            col("server_cpu_us_per_connect", "server CPU us/connect")));
    COLUMNS.put(
        "fanout",
        List.of(
            col("subscribers", "subscribers"),
            col("connected", "up"),
            col("last_ms_median", "last one has it, ms (median)"),
            col("last_ms_max", "worst round, ms"),
            col("p50_ms_median", "p50 ms"),
            col("p99_ms_median", "p99 ms"),
            col("server_cpu_us_per_delivery", "server CPU us/msg"),
            col("missing", "missing")));
    COLUMNS.put(
        "throughput",
        List.of(
            col("publish_rate", "publish/s"),
            col("offered_deliveries_per_s", "offered msg/s"),
            col("deliveries_per_s", "delivered msg/s"),
            col("p50_ms", "p50 ms"),
            col("p99_ms", "p99 ms"),
            col("p999_ms", "p99.9 ms"),
            col("server_cpu_us_per_delivery", "server CPU us/msg"),
            col("server_cpu_util", "server CPU"),
            col("generator_cpu_util", "generator CPU"),
            col("sustained", "sustained")));
    COLUMNS.put(
        "latency",
        List.of(
            col("publish_rate", "publish/s"),
            col("offered_deliveries_per_s", "offered msg/s"),
            col("deliveries_per_s", "delivered msg/s"),
            col("p50_ms", "p50 ms"),
            col("p99_ms", "p99 ms"),
            col("p999_ms", "p99.9 ms"),
            col("max_ms", "max ms"),
            col("server_cpu_us_per_delivery", "server CPU us/msg"),
            col("server_cpu_util", "server CPU"),
            col("generator_cpu_util", "generator CPU"),
            col("sustained", "sustained")));
    COLUMNS.put(
        "slow",
        List.of(
            col("phase", "phase"),
            col("count", "others' msgs"),
            col("p50_ms", "others p50 ms"),
            col("p99_ms", "others p99 ms"),
            col("p999_ms", "others p99.9 ms"),
            col("server_cpu_util", "server CPU")));
    COLUMNS.put(
        "storm",
        List.of(
            col("clients", "clients"),
            col("resumed", "resumed"),
            col("all_resumed_s", "all resumed, s"),
            col("resume_p50_ms", "p50 ms"),
            col("resume_p99_ms", "p99 ms"),
            col("server_cpu_us_per_reconnect", "server CPU us/reconnect")));
    COLUMNS.put(
        "publish",
        List.of(
            col("endpoint", "endpoint"),
            col("connections", "connections"),
            col("batch_size", "batch"),
            col("events_per_s", "events/s"),
            col("request_p50_ms", "request p50 ms"),
            col("request_p99_ms", "request p99 ms"),
            col("server_cpu_us_per_event", "server CPU us/event")));
    COLUMNS.put(
        "cluster",
        List.of(
            col("phase", "phase"),
            col("connections", "subscribers"),
            col("connected", "up"),
            col("publish_rate", "publish/s"),
            col("offered_deliveries_per_s", "offered msg/s"),
            col("deliveries_per_s", "delivered msg/s"),
            col("p50_ms", "p50 ms"),
            col("p90_ms", "p90 ms"),
            col("p99_ms", "p99 ms"),
            col("max_ms", "max ms"),
            col("node_rss_idle_mb", "RSS MiB per node"),
            col("node_kb_per_connection", "RSS KiB/conn per node"),
            col("node_heap_bytes_per_connection", "live heap B/conn per node"),
            col("server_cpu_us_per_delivery", "servers CPU us/msg"),
            col("missing_messages", "missing")));
  }

  private static String[] col(String key, String header) {
    return new String[] {key, header};
  }

  @Override
  public Integer call() throws IOException {
    List<Map<String, Object>> runs = new ArrayList<>();
    Path raw = dir.resolve("raw");
    if (Files.isDirectory(raw)) {
      try (Stream<Path> files = Files.list(raw)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
          runs.add(
              RunCommand.mapper()
                  .readValue(f.toFile(), new TypeReference<Map<String, Object>>() {}));
        }
      }
    }
    Map<String, Object> machine = Machine.describe();
    for (String m : meta) {
      int eq = m.indexOf('=');
      if (eq > 0) {
        machine.put(m.substring(0, eq), m.substring(eq + 1));
      }
    }
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("machine", machine);
    all.put("runs", runs);
    RunCommand.mapper().writeValue(dir.resolve("results.json").toFile(), all);
    boolean chart = Chart.latencyVersusLoad(runs, dir.resolve("latency-vs-load.png"));
    Files.writeString(dir.resolve("results.md"), markdown(machine, runs, chart));
    System.out.println("wrote " + dir.resolve("results.md"));
    return 0;
  }

  static String markdown(
      Map<String, Object> machine, List<Map<String, Object>> runs, boolean chart) {
    StringBuilder md = new StringBuilder();
    md.append("# progress-hub bench results\n\n");
    machine.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
    md.append('\n');
    List<String> servers = servers(runs);

    md.append("## Headlines\n\n");
    md.append("| scenario | metric | ");
    servers.forEach(s -> md.append(s).append(" | "));
    servers.stream()
        .filter(s -> !s.equals(OURS))
        .forEach(s -> md.append(OURS).append(" / ").append(s).append(" | "));
    md.append("better |\n|---|---|");
    servers.forEach(s -> md.append("---|"));
    servers.stream().filter(s -> !s.equals(OURS)).forEach(s -> md.append("---|"));
    md.append("---|\n");
    for (String scenario : COLUMNS.keySet()) {
      Map<String, Map<String, Object>> byServer = byServer(runs, scenario);
      if (byServer.isEmpty()) {
        continue;
      }
      Map<String, Object> anyHeadline = null;
      for (Map<String, Object> r : byServer.values()) {
        if (r.get("headline") instanceof Map<?, ?> h) {
          @SuppressWarnings("unchecked")
          Map<String, Object> cast = (Map<String, Object>) h;
          anyHeadline = cast;
          break;
        }
      }
      if (anyHeadline == null) {
        continue;
      }
      md.append("| ")
          .append(scenario)
          .append(" | ")
          .append(anyHeadline.get("metric"))
          .append(" (")
          .append(anyHeadline.get("unit"))
          .append(") | ");
      Double ours = headlineValue(byServer.get(OURS));
      for (String s : servers) {
        Map<String, Object> r = byServer.get(s);
        md.append(r == null ? "-" : r.containsKey("error") ? "error" : fmt(headlineValue(r)))
            .append(" | ");
      }
      for (String s : servers) {
        if (s.equals(OURS)) {
          continue;
        }
        Double theirs = headlineValue(byServer.get(s));
        md.append(ours != null && theirs != null && theirs != 0 ? fmt(ours / theirs) : "-")
            .append(" | ");
      }
      md.append(anyHeadline.get("better")).append(" |\n");
    }
    md.append('\n');

    for (Map.Entry<String, List<String[]>> e : COLUMNS.entrySet()) {
      String scenario = e.getKey();
      Map<String, Map<String, Object>> byServer = byServer(runs, scenario);
      if (byServer.isEmpty()) {
        continue;
      }
      md.append("## ").append(scenario).append("\n\n");
      Map<String, Object> first = byServer.values().iterator().next();
      if (first.get("params") != null) {
        md.append("Parameters: `").append(first.get("params")).append("`\n\n");
      }
      List<String[]> cols = e.getValue();
      md.append("| server | ");
      cols.forEach(c -> md.append(c[1]).append(" | "));
      md.append("\n|---|");
      cols.forEach(c -> md.append("---|"));
      md.append('\n');
      List<Object[]> lines = new ArrayList<>();
      for (String s : servers) {
        Map<String, Object> r = byServer.get(s);
        if (r == null) {
          continue;
        }
        if (r.containsKey("error")) {
          lines.add(new Object[] {null, s, "error: " + r.get("error")});
          continue;
        }
        if (r.get("rows") instanceof List<?> rows) {
          int i = 0;
          for (Object o : rows) {
            if (o instanceof Map<?, ?> row) {
              lines.add(new Object[] {i++, s, row});
            }
          }
        }
      }
      lines.sort(
          Comparator.comparingInt((Object[] l) -> l[0] == null ? Integer.MAX_VALUE : (int) l[0]));
      for (Object[] l : lines) {
        md.append("| ").append(l[1]).append(" | ");
        if (l[2] instanceof Map<?, ?> row) {
          cols.forEach(c -> md.append(fmtObj(row.get(c[0]))).append(" | "));
        } else {
          md.append(l[2]).append(" |");
        }
        md.append('\n');
      }
      md.append('\n');
      if (scenario.equals("slow")) {
        md.append("Slow subscriber:\n\n");
        for (String s : servers) {
          Map<String, Object> r = byServer.get(s);
          if (r != null && r.get("slow_subscriber") != null) {
            md.append("- ").append(s).append(": `").append(r.get("slow_subscriber")).append("`\n");
          }
        }
        md.append('\n');
      }
      md.append("Checks (lost transitions, out-of-order and missing final states must be 0):\n\n");
      for (String s : servers) {
        Map<String, Object> r = byServer.get(s);
        if (r != null && r.get("checks") != null) {
          md.append("- ").append(s).append(": `").append(r.get("checks")).append("`\n");
        }
      }
      md.append('\n');
      if (scenario.equals("throughput") && chart) {
        md.append("![latency versus load](latency-vs-load.png)\n\n");
      }
    }
    return md.toString();
  }

  static List<String> servers(List<Map<String, Object>> runs) {
    List<String> found = new ArrayList<>();
    for (Map<String, Object> r : runs) {
      String s = String.valueOf(r.get("server"));
      if (!found.contains(s)) {
        found.add(s);
      }
    }
    found.sort(
        Comparator.comparingInt(
            s -> SERVER_ORDER.indexOf(s) < 0 ? SERVER_ORDER.size() : SERVER_ORDER.indexOf(s)));
    return found;
  }

  static Map<String, Map<String, Object>> byServer(
      List<Map<String, Object>> runs, String scenario) {
    Map<String, Map<String, Object>> m = new LinkedHashMap<>();
    for (Map<String, Object> r : runs) {
      if (Objects.equals(r.get("scenario"), scenario)) {
        m.put(String.valueOf(r.get("server")), r);
      }
    }
    return m;
  }

  static Double headlineValue(Map<String, Object> run) {
    if (run == null || run.containsKey("error") || !(run.get("headline") instanceof Map<?, ?> h)) {
      return null;
    }
    return h.get("value") instanceof Number n ? n.doubleValue() : null;
  }

  static String fmtObj(Object o) {
    if (o == null) {
      return "-";
    }
    if (o instanceof Number n) {
      return fmt(n.doubleValue());
    }
    return String.valueOf(o);
  }

  static String fmt(Double v) {
    if (v == null || v.isNaN()) {
      return "-";
    }
    double a = Math.abs(v);
    if (a == Math.rint(a) && a < 1e15) {
      return String.format(Locale.ROOT, "%,d", v.longValue());
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }
}
