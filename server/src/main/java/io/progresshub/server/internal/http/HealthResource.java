package io.progresshub.server.internal.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.progresshub.protocol.Health;
import io.progresshub.server.internal.Readiness;

/**
 * {@code GET /health} (the process answers) and {@code GET /ready} (it takes new work): no token
 * needed, served on the event loop, for load balancers and orchestrators.
 */
final class HealthResource {
  private static final Health READY = new Health("ready");
  private static final Health DRAINING = new Health("draining");

  private final Readiness readiness;

  HealthResource(Readiness readiness) {
    this.readiness = readiness;
  }

  Reply get(RestRequest request) {
    return Reply.ok(Health.OK);
  }

  /** 200 {@code ready}, or 503 {@code draining} once shutdown has begun. */
  Reply ready(RestRequest request) {
    return readiness.ready()
        ? Reply.ok(READY)
        : new Reply.WithBody(HttpResponseStatus.SERVICE_UNAVAILABLE, DRAINING);
  }
}
