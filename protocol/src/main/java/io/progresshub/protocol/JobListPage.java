package io.progresshub.protocol;

import java.util.List;

/**
 * The answer to {@code GET /api/jobs}: one page of jobs, newest first.
 *
 * @param total how many jobs match the query in all
 * @param offset how many matching jobs come before this page
 * @param limit the most jobs a page holds
 */
public record JobListPage(List<JobResource> jobs, long total, int offset, int limit)
    implements RestBody {

  public JobListPage {
    jobs = List.copyOf(jobs);
  }
}
