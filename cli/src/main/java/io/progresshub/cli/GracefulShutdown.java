package io.progresshub.cli;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Stops what {@code serve} started, in order, once: the server first (it closes WebSockets with
 * 1001 so clients reconnect elsewhere), then the hub (which flushes the store).
 *
 * <p>SIGTERM and SIGINT run it and then exit with status 0. A plain shutdown hook alone would do
 * the work too, but the JVM then exits with 143 (or 130), which service managers and CI read as a
 * crash; the hook stays as the safety net for every other way the JVM may end.
 */
final class GracefulShutdown implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);

  private final List<Step> steps = new ArrayList<>();
  private boolean done;

  /** One thing to close, named for the log. */
  record Step(String name, AutoCloseable resource) {}

  GracefulShutdown then(String name, AutoCloseable resource) {
    steps.add(new Step(name, resource));
    return this;
  }

  /**
   * Closes every step in order; later calls wait for the first one to finish, then return. A
   * failing step is logged and does not keep the next from closing.
   */
  @Override
  public synchronized void run() {
    if (done) {
      return;
    }
    done = true;
    for (Step step : steps) {
      try {
        step.resource().close();
      } catch (Exception e) {
        LOG.warn("Closing the {} failed", step.name(), e);
      }
    }
  }

  /** Runs this on SIGTERM and SIGINT, then exits 0; and from a shutdown hook on any other exit. */
  void install() {
    Runtime.getRuntime().addShutdownHook(new Thread(this, "progress-hub-shutdown"));
    for (String name : List.of("TERM", "INT")) {
      try {
        Signal.handle(
            new Signal(name),
            signal -> {
              LOG.info("SIG{} received: shutting down", signal.getName());
              run();
              System.exit(0);
            });
      } catch (IllegalArgumentException e) {
        // The signal is reserved (e.g. -Xrs): the shutdown hook still closes everything.
        LOG.debug("Cannot handle SIG{}: {}", name, e.getMessage());
      }
    }
  }
}
