package io.progresshub.server.internal.http;

import io.progresshub.core.HubStats;
import io.progresshub.core.JobStatus;
import io.progresshub.protocol.ServerStats;
import io.progresshub.server.internal.ServerContext;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /api/stats}: what the hub holds and this node serves, for admins. */
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
    return Reply.ok(
        new ServerStats(
            jobs,
            new ServerStats.Connections(
                context.connections().size(), stats.subscriptions(), stats.watchedJobs())));
  }
}
