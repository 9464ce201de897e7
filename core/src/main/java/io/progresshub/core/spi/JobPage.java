package io.progresshub.core.spi;

import io.progresshub.core.Job;
import java.util.List;

/**
 * One page of a job listing.
 *
 * @param total how many jobs match the query in all
 */
public record JobPage(List<Job> jobs, long total) {
  public JobPage {
    jobs = List.copyOf(jobs);
  }
}
