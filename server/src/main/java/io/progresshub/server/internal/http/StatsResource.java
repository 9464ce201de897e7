package io.progresshub.server.internal.http;

import io.progresshub.core.HubStats;
import io.progresshub.protocol.ServerStats;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.metrics.Figures;

/**
 * {@code GET /api/stats}: what the hub holds and this node serves, its traffic and its store's
 * latency, for admins.
 */
final class StatsResource {
  private final ServerContext context;

  StatsResource(ServerContext context) {
    this.context = context;
  }

  Reply get(RestRequest request) {
    Permissions.requireAdmin(request.caller());
    HubStats stats = context.hub().stats();
    Figures figures = context.meters().figures();
    Figures.Rates rates = context.meters().rates();
    return Reply.ok(
        new ServerStats(
            stats.jobsByWireName(),
            new ServerStats.Connections(
                context.connections().size(), stats.subscriptions(), stats.watchedJobs()),
            new ServerStats.Rates(rates.publishesPerSecond(), rates.deliveriesPerSecond()),
            new ServerStats.Store(
                figures.storePendingWrites(),
                figures.storeCommitP50Ms(),
                figures.storeCommitP99Ms())));
  }
}
