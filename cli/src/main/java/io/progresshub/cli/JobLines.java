package io.progresshub.cli;

import io.progresshub.protocol.JobState;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.protocol.WireCodec;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.OptionalDouble;

/** How the client commands print a job state: one plain line, a JSON line, or a progress bar. */
final class JobLines {
  private static final WireCodec CODEC = new WireCodec(64);

  private JobLines() {}

  /** The state as a {@code progress} message of the protocol, on one line. */
  static String json(JobState state) {
    return new String(
        CODEC.encode(new ServerMessage.Progress(state, false)), StandardCharsets.UTF_8);
  }

  /** E.g. {@code job-42 in_progress 40% transcribe "chunk 4/10" elapsed 21s eta 32s}. */
  static String plain(JobState state) {
    StringBuilder line =
        new StringBuilder()
            .append(state.jobId())
            .append(' ')
            .append(state.status())
            .append(' ')
            .append(percent(state.progress()));
    state.stage().ifPresent(stage -> line.append(' ').append(stage));
    state.message().ifPresent(message -> line.append(" \"").append(message).append('"'));
    seconds(" elapsed ", state.elapsedSeconds(), line);
    if (!state.isTerminal()) {
      seconds(" eta ", state.etaSeconds(), line);
    }
    state.error().ifPresent(error -> line.append(" error: ").append(error));
    return line.toString();
  }

  /** A bar line of at most {@code width} columns. */
  static String bar(JobState state, int terminalWidth) {
    // A terminal that reports no size (a pty nobody sized) gets the classic 80 columns.
    int width = terminalWidth > 0 ? terminalWidth : 80;
    int barWidth = Math.max(10, Math.min(30, width / 3));
    int filled = (int) Math.round(Math.max(0, Math.min(100, state.progress())) * barWidth / 100);
    StringBuilder line =
        new StringBuilder()
            .append(state.jobId())
            .append(" [")
            .append("#".repeat(filled))
            .append(" ".repeat(barWidth - filled))
            .append("] ")
            .append(percent(state.progress()))
            .append(' ')
            .append(state.status());
    state.stage().ifPresent(stage -> line.append(' ').append(stage));
    state.message().ifPresent(message -> line.append(" - ").append(message));
    seconds(" elapsed ", state.elapsedSeconds(), line);
    if (!state.isTerminal()) {
      seconds(" eta ", state.etaSeconds(), line);
    }
    state.error().ifPresent(error -> line.append(" error: ").append(error));
    return line.length() > width ? line.substring(0, width) : line.toString();
  }

  private static String percent(double progress) {
    return String.format(Locale.ROOT, "%.0f%%", progress);
  }

  private static void seconds(String label, OptionalDouble value, StringBuilder line) {
    if (value.isPresent()) {
      line.append(label)
          .append(Durations.format(java.time.Duration.ofSeconds(Math.round(value.getAsDouble()))));
    }
  }
}
