package io.progresshub.core;

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
}
