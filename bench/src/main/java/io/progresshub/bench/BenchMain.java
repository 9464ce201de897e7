package io.progresshub.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar progress-hub-bench.jar run|report ...}; bench/run drives both. */
@Command(
    name = "progress-hub-bench",
    mixinStandardHelpOptions = true,
    description = "Load generator and report for bench/run.",
    subcommands = {RunCommand.class, ReportCommand.class, SubscribeCommand.class})
public final class BenchMain {
  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchMain()).execute(args));
  }
}
