package io.progresshub.cli;

import io.progresshub.core.Hub;
import io.progresshub.server.ProgressHubServer;
import java.time.Duration;

/**
 * A hub that {@link HubLauncher} started: its store, hub and server, listening. {@link #close}
 * stops them once, in order: the server first (it closes WebSockets with 1001 so clients reconnect
 * elsewhere), then the hub (which flushes the store).
 */
final class RunningHub implements AutoCloseable {

  private final Settings settings;
  private final Hub hub;
  private final ProgressHubServer server;
  private final GracefulShutdown shutdown;

  RunningHub(Settings settings, Hub hub, ProgressHubServer server) {
    this.settings = settings;
    this.hub = hub;
    this.server = server;
    this.shutdown =
        new GracefulShutdown()
            .then("readiness", () -> drain(server, settings.drainDelay()))
            .then("server", server)
            .then("hub", hub);
  }

  /**
   * {@code /ready} answers 503 from now on; with a delay, everything is still served for that long,
   * so that a load balancer polling {@code /ready} sends new clients elsewhere before the port
   * closes.
   */
  private static void drain(ProgressHubServer server, Duration delay) {
    server.drain();
    if (delay.isPositive()) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // asked to hurry: close now
      }
    }
  }

  /** What it was started with. */
  Settings settings() {
    return settings;
  }

  /** The hub behind the server, e.g. to publish in-process. */
  Hub hub() {
    return hub;
  }

  /** The bound port: the free one picked when the settings said 0. */
  int port() {
    return server.port();
  }

  /** Where clients connect. */
  HubAddress address() {
    return new HubAddress(settings.host(), port(), settings.tls().isPresent());
  }

  /** Whether clients need a token (no {@code --insecure-no-auth}). */
  boolean authEnabled() {
    return !settings.insecureNoAuth();
  }

  /**
   * Closes this on SIGTERM and SIGINT, then exits the JVM with status 0; and from a shutdown hook
   * on any other exit. For a command that runs until it is stopped; see {@link GracefulShutdown}.
   */
  void closeOnSignals() {
    shutdown.install();
  }

  /** Blocks until the server has stopped: closed, or by a signal. */
  void awaitShutdown() throws InterruptedException {
    server.awaitShutdown();
  }

  /** Stops the server, then the hub; later calls wait for the first to finish. */
  @Override
  public void close() {
    shutdown.run();
  }
}
