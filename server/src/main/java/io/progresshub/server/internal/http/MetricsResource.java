package io.progresshub.server.internal.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.metrics.ScrapeAccess;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.util.Optional;

/**
 * {@code GET /metrics}: the Prometheus text format (OpenMetrics when the scraper asks for it), to
 * whom the metrics setting allows: loopback without a token by default, else an admin token.
 */
final class MetricsResource {
  private final ServerContext context;

  MetricsResource(ServerContext context) {
    this.context = context;
  }

  Reply scrape(RestRequest request) {
    boolean open =
        ScrapeAccess.openWithoutToken(
            context.config().metrics().access(),
            request.target().ctx().channel().remoteAddress(),
            request.headers());
    if (!open) {
      Principal caller =
          request
              .callerIfAny()
              .orElseThrow(
                  () ->
                      HubException.unauthorized(
                          "missing bearer token (Authorization: Bearer <token> or ?token=)"));
      Permissions.requireAdmin(caller);
    }
    ServerMeters.Scrape scrape =
        context.meters().scrape(Optional.ofNullable(request.headers().get(HttpHeaderNames.ACCEPT)));
    HttpResponses.text(
        request.target(), HttpResponseStatus.OK, scrape.contentType(), scrape.body());
    return Reply.sent();
  }
}
