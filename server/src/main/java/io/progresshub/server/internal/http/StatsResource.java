package io.progresshub.server.internal.http;

import io.progresshub.core.HubStats;
import io.progresshub.core.JobStatus;
import io.progresshub.protocol.ServerStats;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.metrics.Figures;
import java.util.LinkedHashMap;
import java.util.Map;

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
    Map<String, Long> jobs = new LinkedHashMap<>();
    for (JobStatus status : JobStatus.values()) {
      jobs.put(status.wireName(), stats.jobsByStatus().getOrDefault(status, 0L));
    }
    Figures figures = context.meters().figures();
    Figures.Rates rates = context.meters().rates();
    return Reply.ok(
        new ServerStats(
            jobs,
            new ServerStats.Connections(
                context.connections().size(), stats.subscriptions(), stats.watchedJobs()),
            new ServerStats.Rates(rates.publishesPerSecond(), rates.deliveriesPerSecond()),
            new ServerStats.Store(
                figures.storePendingWrites(),
                figures.storeCommitP50Ms(),
                figures.storeCommitP99Ms())));
  }
}
