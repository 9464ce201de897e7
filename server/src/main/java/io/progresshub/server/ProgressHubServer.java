package io.progresshub.server;

import io.progresshub.core.Hub;

/**
 * The network face of a {@link Hub}: WebSocket, SSE and REST on one port.
 *
 * <pre>{@code
 * try (Hub hub = Hub.builder().store(store).build();
 *     ProgressHubServer server = ProgressHubServer.start(config, hub)) {
 *   server.awaitShutdown();
 * }
 * }</pre>
 */
public final class ProgressHubServer implements AutoCloseable {

  /** Binds and starts serving; returns once the port is open. */
  public static ProgressHubServer start(ServerConfig config, Hub hub) {
    throw new UnsupportedOperationException("not yet");
  }

  /** The bound port (useful with port 0). */
  public int port() {
    throw new UnsupportedOperationException("not yet");
  }

  /** Blocks until {@link #close} has finished. */
  public void awaitShutdown() throws InterruptedException {
    throw new UnsupportedOperationException("not yet");
  }

  /**
   * Graceful shutdown: stop accepting, close WebSockets with 1001, end SSE streams, wait up to the
   * grace period. Does not close the hub (its owner does, which flushes the store).
   */
  @Override
  public void close() {}
}
