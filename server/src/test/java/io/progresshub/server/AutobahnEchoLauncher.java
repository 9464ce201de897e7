package io.progresshub.server;

import java.io.File;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code mainClass} of the autobahntestsuite-maven-plugin: starts {@link AutobahnEchoServer} in
 * its own JVM and stops it when the plugin interrupts this thread.
 *
 * <p>Why a separate JVM: the plugin calls {@code main} inside Maven's own JVM, in a class loader
 * whose parent is the plugin's (Jython, Maven's SLF4J). In a JVM of its own the server runs with
 * the flags our tests use (native access for epoll), logs through {@code logback-test.xml}, and
 * leaves no event loops or native libraries behind in Maven.
 *
 * <p>This class uses the JDK only, so that it loads cleanly in the plugin's class loader.
 */
public final class AutobahnEchoLauncher {
  private AutobahnEchoLauncher() {}

  /** {@code args[0]}: the port the plugin's fuzzing client will connect to. */
  public static void main(String[] args) throws Exception {
    run(args, List.of());
  }

  /**
   * Runs {@link AutobahnEchoServer} in a JVM of its own with {@code jvmArgs} added, until the
   * plugin interrupts this thread.
   */
  static void run(String[] args, List<String> jvmArgs) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException(
          "arguments: " + List.of(args) + " (expected: exactly one, the port)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xmx256m");
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classpath());
    command.add(AutobahnEchoServer.class.getName());
    command.add(args[0]);
    command.add(pluginHost());
    Process server = new ProcessBuilder(command).inheritIO().start();
    Thread stopOnExit = new Thread(server::destroy, "autobahn-echo-stop");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    try {
      int status = server.waitFor();
      throw new IllegalStateException("Autobahn echo server exited early with status " + status);
    } catch (InterruptedException done) {
      // The plugin interrupts this thread once the fuzzing client has finished.
      server.destroy();
      if (!server.waitFor(5, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException jvmShuttingDown) {
        // the hook runs anyway
      }
    }
  }

  /**
   * The plugin's fuzzing client connects to {@code InetAddress.getLocalHost()} (127.0.0.1 if that
   * fails), not to loopback, so the server binds where the client will look.
   */
  private static String pluginHost() {
    try {
      return InetAddress.getLocalHost().getHostAddress();
    } catch (UnknownHostException e) {
      return "127.0.0.1";
    }
  }

  /** The test classpath the plugin built this class loader from. */
  private static String classpath() throws URISyntaxException {
    if (AutobahnEchoLauncher.class.getClassLoader() instanceof URLClassLoader loader) {
      List<String> entries = new ArrayList<>();
      for (URL url : loader.getURLs()) {
        entries.add(Path.of(url.toURI()).toString());
      }
      return String.join(File.pathSeparator, entries);
    }
    return System.getProperty("java.class.path");
  }
}
