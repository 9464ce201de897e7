package io.progresshub.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's handle on one {@link SubscribeCommand} process: a generator JVM of its own
 * (this jar, the same java), so that its sockets count against its own open-files limit. Every wait
 * for an answer is bounded; a process that dies or stays silent fails the scenario.
 */
final class SubscriberProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final PrintStream commands;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

  private SubscriberProcess(String name, Process process) {
    this.name = name;
    this.process = process;
    this.commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines = process.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = lines.readLine()) != null) {
                  answers.add(line);
                }
              } catch (IOException e) {
                // the process is gone; await() reports it
              }
            },
            "subscriber-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code subscribe} with {@code args} and {@code env} added to our environment (secrets go
   * there, never on a command line); its stderr goes to ours (the generator log).
   */
  static SubscriberProcess start(String name, List<String> args, Map<String, String> env)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    command.add(java);
    // Like the main generator: one event loop thread, a heap that holds 19k connections.
    command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xms256m", "-Xmx2g"));
    // Our class path: the bench jar under bench/run, the module's classes in a test.
    command.addAll(
        List.of(
            "-cp", System.getProperty("java.class.path"), BenchMain.class.getName(), "subscribe"));
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().putAll(env);
    Process process = builder.start();
    return new SubscriberProcess(name, process);
  }

  long pid() {
    return process.pid();
  }

  /** Sends {@code command} and returns the rest of the answer line that starts with {@code tag}. */
  String ask(String command, String tag, double seconds) {
    commands.println(command);
    return await(tag, seconds);
  }

  /** The rest of the next line, which must start with {@code tag}, within {@code seconds}. */
  String await(String tag, double seconds) {
    String line;
    try {
      line = answers.poll((long) (seconds * 1000), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    if (line == null) {
      throw new IllegalStateException(
          "subscriber process "
              + name
              + (process.isAlive() ? " said nothing for " + seconds + " s" : " exited")
              + " (waiting for '"
              + tag
              + "')");
    }
    if (!line.startsWith(tag)) {
      throw new IllegalStateException(
          "subscriber process " + name + ": expected '" + tag + "', got: " + line);
    }
    return line.substring(tag.length()).trim();
  }

  /** Asks it to close its connections and exit; kills it after 60 s. */
  @Override
  public void close() {
    if (process.isAlive()) {
      commands.println("quit");
    }
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
