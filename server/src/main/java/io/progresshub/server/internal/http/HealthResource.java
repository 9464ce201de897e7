package io.progresshub.server.internal.http;

import io.progresshub.protocol.Health;

/** {@code GET /health}: the server answers; no token needed, served on the event loop. */
final class HealthResource {

  Reply get(RestRequest request) {
    return Reply.ok(Health.OK);
  }
}
