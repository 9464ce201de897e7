package io.progresshub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The machine a run was on, from /proc. */
final class Machine {
  private Machine() {}

  static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    List<String> cpuinfo = lines("/proc/cpuinfo");
    m.put("cpus", cpuinfo.stream().filter(l -> l.startsWith("processor")).count());
    m.put(
        "cpu_model",
        cpuinfo.stream()
            .filter(l -> l.startsWith("model name"))
            .map(l -> l.substring(l.indexOf(':') + 1).trim())
            .findFirst()
            .orElse("?"));
    lines("/proc/meminfo").stream()
        .filter(l -> l.startsWith("MemTotal"))
        .findFirst()
        .ifPresent(
            l ->
                m.put(
                    "memory_gib",
                    Latencies.round(Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0)));
    m.put("kernel", String.join("", lines("/proc/sys/kernel/osrelease")).trim());
    m.put(
        "jdk",
        System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"));
    return m;
  }

  private static List<String> lines(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException e) {
      return List.of();
    }
  }
}
