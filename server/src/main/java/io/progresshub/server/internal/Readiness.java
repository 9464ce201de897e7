package io.progresshub.server.internal;

/**
 * Whether the server takes new work, for {@code GET /ready}: it is ready from the moment it listens
 * (the store is open before the server starts) until shutdown begins, then draining.
 */
public final class Readiness {
  private volatile boolean draining;

  public boolean ready() {
    return !draining;
  }

  /** Shutdown has begun: load balancers should send new clients elsewhere. */
  public void drain() {
    draining = true;
  }
}
