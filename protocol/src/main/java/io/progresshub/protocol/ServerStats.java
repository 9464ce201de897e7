package io.progresshub.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The answer to {@code GET /api/stats}: {@code {"jobs": {"pending": n, ..., "total": n},
 * "connections": {...}}}.
 *
 * @param jobsByStatus stored jobs per status wire name, in the order written
 */
public record ServerStats(Map<String, Long> jobsByStatus, Connections connections)
    implements RestBody {

  public ServerStats {
    jobsByStatus = Collections.unmodifiableMap(new LinkedHashMap<>(jobsByStatus));
    Objects.requireNonNull(connections, "connections");
  }

  /** All stored jobs: the sum over the statuses. */
  public long totalJobs() {
    return jobsByStatus.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * This node's connections.
   *
   * @param open open WebSocket, SSE and HTTP connections
   * @param subscriptions live job subscriptions
   * @param watchedJobs jobs with at least one subscription
   */
  public record Connections(long open, long subscriptions, long watchedJobs) {}
}
