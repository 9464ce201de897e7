package io.progresshub.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The answer to {@code GET /api/stats}: {@code {"jobs": {"pending": n, ..., "total": n},
 * "connections": {...}, "rates": {...}, "store": {...}}}.
 *
 * @param jobsByStatus stored jobs per status wire name, in the order written
 */
public record ServerStats(
    Map<String, Long> jobsByStatus, Connections connections, Rates rates, Store store)
    implements RestBody {

  public ServerStats {
    jobsByStatus = Collections.unmodifiableMap(new LinkedHashMap<>(jobsByStatus));
    Objects.requireNonNull(connections, "connections");
    Objects.requireNonNull(rates, "rates");
    Objects.requireNonNull(store, "store");
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

  /**
   * This node's traffic, per second over about the last second.
   *
   * @param publishesPerSecond events (and creates) made durable
   * @param deliveriesPerSecond job states written to subscribers
   */
  public record Rates(double publishesPerSecond, double deliveriesPerSecond) {
    public static final Rates NONE = new Rates(0, 0);
  }

  /**
   * The store as this node sees it.
   *
   * @param pendingWrites events handed to the store and not yet durable
   * @param commitMillisP50 the median time to make an event durable, over about the last minute
   * @param commitMillisP99 its 99th percentile
   */
  public record Store(long pendingWrites, double commitMillisP50, double commitMillisP99) {
    public static final Store NONE = new Store(0, 0, 0);
  }
}
