package io.progresshub.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of what the hub holds.
 *
 * @param jobsByStatus stored jobs per status
 * @param subscriptions live subscriptions on this node
 * @param watchedJobs jobs with at least one subscription on this node
 */
public record HubStats(Map<JobStatus, Long> jobsByStatus, long subscriptions, int watchedJobs) {
  public HubStats {
    jobsByStatus = Map.copyOf(jobsByStatus);
  }

  /** Stored jobs per status wire name, every status in lifecycle order, zeros included. */
  public Map<String, Long> jobsByWireName() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (JobStatus status : JobStatus.values()) {
      counts.put(status.wireName(), jobsByStatus.getOrDefault(status, 0L));
    }
    return counts;
  }
}
