package io.progresshub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel says about a process: CPU time (utime + stime from /proc/PID/stat, all threads,
 * including finished ones), resident memory (VmRSS), and for a JVM the live heap after a full GC
 * (jcmd GC.class_histogram).
 */
final class ProcStats {
  /** USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux we run on. */
  static final long TICKS_PER_SECOND = 100;

  private ProcStats() {}

  /** CPU time of {@code pid} so far, in microseconds (10 ms resolution). */
  static long cpuMicros(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
      return ticks * 1_000_000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Resident set size in KiB, or -1. */
  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  static int threads(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("Threads:")) {
          return Integer.parseInt(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  static boolean alive(long pid) {
    return Files.exists(Path.of("/proc", Long.toString(pid), "stat"));
  }

  static boolean isJvm(long pid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe"))
          .getFileName()
          .toString()
          .equals("java");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Live heap bytes of a JVM after a full GC ({@code jcmd PID GC.class_histogram} forces one and
   * totals the survivors), or -1 if jcmd is not available or fails.
   */
  static long jvmLiveHeapBytes(long pid) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return -1;
    }
    List<String> out = run(List.of(jcmd.toString(), Long.toString(pid), "GC.class_histogram"));
    for (int i = out.size() - 1; i >= 0; i--) {
      String line = out.get(i).trim();
      if (line.startsWith("Total")) {
        String[] parts = line.split("\\s+");
        return Long.parseLong(parts[parts.length - 1]);
      }
    }
    return -1;
  }

  /** Runs a short command; its output lines, empty on failure or after 60 s. */
  static List<String> run(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      List<String> lines = new ArrayList<>();
      try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
        String line;
        while ((line = reader.readLine()) != null && lines.size() < 100_000) {
          lines.add(line);
        }
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return List.of();
      }
      return lines;
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  /** A CPU-time stopwatch over a phase, for the server and for the generator itself. */
  static final class Cpu {
    private final long pid;
    private final long self = ProcessHandle.current().pid();
    private long serverStart;
    private long selfStart;
    private long wallStart;

    Cpu(long pid) {
      this.pid = pid;
    }

    Cpu start() {
      serverStart = pid > 0 ? cpuMicros(pid) : -1;
      selfStart = cpuMicros(self);
      wallStart = System.nanoTime();
      return this;
    }

    /** [server CPU us, generator CPU us, wall us] since start. */
    long[] stop() {
      long server = pid > 0 ? cpuMicros(pid) - serverStart : -1;
      long generator = cpuMicros(self) - selfStart;
      return new long[] {server, generator, (System.nanoTime() - wallStart) / 1000};
    }
  }
}
