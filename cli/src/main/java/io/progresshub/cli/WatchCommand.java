package io.progresshub.cli;

import io.progresshub.client.ConnectionListener;
import io.progresshub.client.ProgressHubException;
import io.progresshub.client.ProgressSubscriber;
import io.progresshub.protocol.JobState;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code progress-hub watch JOB...}: follows jobs until each has finished, across reconnects. Exit
 * status: 0 every job completed, 1 one failed, 2 one was cancelled (and none failed), 3 the server
 * could not be reached, refused the token, or does not know a job (it never existed, or was deleted
 * while watched).
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Follow jobs live until they finish: a progress bar per job on a terminal, a line per"
          + " change otherwise, or JSON with --json.",
      "Exit status: 0 completed, 1 failed, 2 cancelled, 3 connection or auth error, or no"
          + " such job (unknown, or deleted while watched)."
    },
    sortOptions = false)
final class WatchCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Parameters(paramLabel = "JOB", arity = "1..*", description = "Job ids to watch.")
  List<String> jobs;

  @Option(names = "--json", description = "One JSON progress message per line, for scripts.")
  boolean json;

  @Option(names = "--plain", description = "Plain lines even on a terminal.")
  boolean plain;

  @Option(
      names = "--retries",
      paramLabel = "N",
      description = "Reconnects tried in a row before giving up with status 3 (default: 10).")
  int retries = 10;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Output output = output(out);
    ProgressSubscriber.Builder builder =
        hub.subscriber(main.env())
            .maxReconnectAttempts(retries)
            .connectionListener(
                new ConnectionListener() {
                  @Override
                  public void onDisconnected(int closeCode, String reason, Duration retryIn) {
                    output.note(
                        "connection lost ("
                            + closeCode
                            + (reason.isEmpty() ? "" : " " + reason)
                            + "), reconnecting in "
                            + Durations.format(Duration.ofMillis(retryIn.toMillis())),
                        err);
                  }
                });
    List<CompletableFuture<JobState>> terminals = new ArrayList<>();
    try (ProgressSubscriber subscriber = builder.build()) {
      for (String job : jobs) {
        terminals.add(subscriber.watch(job, output::show));
      }
      int status = HubClientOptions.OK;
      for (CompletableFuture<JobState> terminal : terminals) {
        status = worse(status, statusOf(terminal, err));
      }
      return status;
    } finally {
      output.close();
    }
  }

  private static int statusOf(CompletableFuture<JobState> terminal, PrintWriter err)
      throws InterruptedException {
    try {
      JobState state = terminal.get();
      switch (state.status()) {
        case "completed":
          return HubClientOptions.OK;
        case "cancelled":
          return HubClientOptions.CANCELLED;
        default:
          return HubClientOptions.FAILED;
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ProgressHubException) {
        HubClientOptions.report((ProgressHubException) e.getCause(), err);
      } else {
        err.println("progress-hub: error: " + e.getCause());
      }
      return HubClientOptions.CONNECTION_ERROR;
    }
  }

  /** A connection error outranks a failure, which outranks a cancel, which outranks success. */
  private static int worse(int a, int b) {
    int[] rank = {0, 2, 1, 3}; // by status: 0 ok, 1 failed, 2 cancelled, 3 connection
    return rank[b] > rank[a] ? b : a;
  }

  private Output output(PrintWriter out) {
    if (json) {
      return new Lines(out, true);
    }
    if (!plain) {
      try {
        Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build();
        if (!terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
          return new Bars(terminal);
        }
        terminal.close();
      } catch (IOException | RuntimeException e) {
        // No usable terminal: plain lines.
      }
    }
    return new Lines(out, false);
  }

  /** Where states go; called from the subscriber's event thread. */
  private interface Output extends AutoCloseable {
    void show(JobState state);

    void note(String text, PrintWriter err);

    @Override
    void close();
  }

  /** A line per state change: plain or JSON. */
  private static final class Lines implements Output {
    private final PrintWriter out;
    private final boolean json;

    Lines(PrintWriter out, boolean json) {
      this.out = out;
      this.json = json;
    }

    @Override
    public synchronized void show(JobState state) {
      out.println(json ? JobLines.json(state) : JobLines.plain(state));
      out.flush();
    }

    @Override
    public void note(String text, PrintWriter err) {
      err.println("progress-hub: " + text);
      err.flush();
    }

    @Override
    public void close() {
      out.flush();
    }
  }

  /** One bar per job, redrawn in place on the terminal. */
  private final class Bars implements Output {
    private final Terminal terminal;
    private final Map<String, String> lines = new LinkedHashMap<>();
    private String note = "";
    private int drawn;

    Bars(Terminal terminal) {
      this.terminal = terminal;
      for (String job : jobs) {
        lines.put(job, job + " waiting...");
      }
      draw();
    }

    @Override
    public synchronized void show(JobState state) {
      note = "";
      lines.put(state.jobId(), JobLines.bar(state, terminal.getWidth()));
      draw();
    }

    @Override
    public synchronized void note(String text, PrintWriter err) {
      note = text;
      draw();
    }

    private void draw() {
      PrintWriter writer = terminal.writer();
      if (drawn > 0) {
        writer.print("\033[" + drawn + "A");
      }
      drawn = 0;
      for (String line : lines.values()) {
        writer.print("\r\033[2K" + line + "\n");
        drawn++;
      }
      writer.print("\r\033[2K" + note + "\n");
      drawn++;
      writer.flush();
    }

    @Override
    public synchronized void close() {
      try {
        terminal.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
