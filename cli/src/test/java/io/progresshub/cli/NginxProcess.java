package io.progresshub.cli;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A real nginx in front of test nodes, run from the committed {@code docs/nginx/progress-hub.conf}
 * with only its addresses replaced: the upstream's servers by the nodes, {@code listen 80} by a
 * free loopback port, {@code /var/log/nginx} by its own prefix directory. A child process in the
 * foreground ({@code daemon off}), killed by {@link #close}.
 */
final class NginxProcess implements AutoCloseable {

  /** The committed configuration, from the cli module's directory (Maven's working directory). */
  static final Path COMMITTED_CONFIG = Path.of("..", "docs", "nginx", "progress-hub.conf");

  private static final Pattern UPSTREAM_SERVER =
      Pattern.compile("^(\\s*)server\\s+[\\d.]+:\\d+(\\s+[^;]*)?;\\s*$", Pattern.MULTILINE);

  private final Process process;
  private final int port;
  private final Path prefix;

  private NginxProcess(Process process, int port, Path prefix) {
    this.process = process;
    this.port = port;
    this.prefix = prefix;
  }

  /** The nginx binary, installing it with scripts/install-test-deps.sh once when missing. */
  static Optional<Path> binary() {
    Optional<Path> found = find();
    if (found.isPresent()) {
      return found;
    }
    try {
      Process install =
          new ProcessBuilder(Path.of("..", "scripts", "install-test-deps.sh").toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!install.waitFor(10, TimeUnit.MINUTES)) {
        install.destroyForcibly();
      }
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    return find();
  }

  private static Optional<Path> find() {
    for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Optional.of(Path.of(candidate));
      }
    }
    return Optional.empty();
  }

  /** The committed configuration with the upstream's servers replaced by {@code nodes}. */
  static String siteConfig(List<Integer> nodePorts, int listenPort, Path logDir)
      throws IOException {
    String committed = Files.readString(COMMITTED_CONFIG);
    Matcher servers = UPSTREAM_SERVER.matcher(committed);
    if (!servers.find()) {
      throw new IllegalStateException("no upstream server line in " + COMMITTED_CONFIG);
    }
    String indent = servers.group(1);
    String options = Optional.ofNullable(servers.group(2)).orElse("");
    String ours =
        nodePorts.stream()
            .map(p -> indent + "server 127.0.0.1:" + p + options + ";")
            .collect(Collectors.joining("\n"));
    String marker = "#progress-hub-test-nodes#";
    String site = servers.replaceFirst(marker);
    site = UPSTREAM_SERVER.matcher(site).replaceAll(""); // the other example nodes
    site = site.replace(marker, ours);
    String listen = "listen 80;";
    if (!site.contains(listen)) {
      throw new IllegalStateException("no '" + listen + "' in " + COMMITTED_CONFIG);
    }
    return site.replace(listen, "listen 127.0.0.1:" + listenPort + ";")
        .replace("/var/log/nginx/", logDir + "/");
  }

  /** Starts nginx for these node ports in {@code prefix}; returns once it proxies /health. */
  static NginxProcess start(Path nginx, Path prefix, List<Integer> nodePorts) throws IOException {
    Path logs = Files.createDirectories(prefix.resolve("logs"));
    Path temp = Files.createDirectories(prefix.resolve("temp"));
    int port = freePort();
    Files.writeString(prefix.resolve("progress-hub.conf"), siteConfig(nodePorts, port, logs));
    String main =
        String.join(
            "\n",
            "worker_processes 1;",
            "pid " + prefix.resolve("nginx.pid") + ";",
            "error_log " + logs.resolve("error.log") + " info;",
            "events { worker_connections 1024; }",
            "http {",
            "  client_body_temp_path " + temp.resolve("body") + ";",
            "  proxy_temp_path " + temp.resolve("proxy") + ";",
            "  fastcgi_temp_path " + temp.resolve("fastcgi") + ";",
            "  uwsgi_temp_path " + temp.resolve("uwsgi") + ";",
            "  scgi_temp_path " + temp.resolve("scgi") + ";",
            "  include " + prefix.resolve("progress-hub.conf") + ";",
            "}",
            "");
    Path conf = prefix.resolve("nginx.conf");
    Files.writeString(conf, main);
    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            nginx.toString(),
            "-p",
            prefix.toString(),
            "-e",
            logs.resolve("error.log").toString(),
            "-c",
            conf.toString(),
            "-g",
            "daemon off;"));
    Process process =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(prefix.resolve("nginx.out").toFile())
            .start();
    NginxProcess started = new NginxProcess(process, port, prefix);
    try {
      started.awaitProxying();
      return started;
    } catch (RuntimeException | AssertionError e) {
      started.close();
      throw e;
    }
  }

  private void awaitProxying() {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("nginx exited " + process.exitValue() + ":\n" + output());
      }
      try {
        HttpResponse<Void> health =
            http.send(
                HttpRequest.newBuilder(uri("/health")).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.discarding());
        if (health.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("nginx did not proxy /health within 20 s:\n" + output());
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  URI ws(String path) {
    return URI.create("ws://127.0.0.1:" + port + path);
  }

  /** What nginx wrote: its own output, its error log and the access log. */
  String output() {
    StringBuilder all = new StringBuilder();
    for (Path file :
        List.of(
            prefix.resolve("nginx.out"),
            prefix.resolve("logs/error.log"),
            prefix.resolve("logs/progress-hub.access.log"))) {
      try {
        all.append("--- ").append(file.getFileName()).append('\n');
        all.append(Files.exists(file) ? Files.readString(file) : "(none)\n");
      } catch (IOException e) {
        all.append(e).append('\n');
      }
    }
    return all.toString();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy(); // SIGTERM: nginx's fast shutdown
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
