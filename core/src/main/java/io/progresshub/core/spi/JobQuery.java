package io.progresshub.core.spi;

import io.progresshub.core.HubException;
import io.progresshub.core.JobStatus;
import java.util.Objects;
import java.util.Optional;

/**
 * A filter and page for listing jobs, newest first.
 *
 * @param offset how many matching jobs to skip
 * @param limit at most this many jobs (1-1000)
 */
public record JobQuery(
    Optional<JobStatus> status,
    Optional<String> owner,
    Optional<String> type,
    int offset,
    int limit) {

  public static final int MAX_LIMIT = 1000;

  public JobQuery {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    if (offset < 0) {
      throw HubException.invalid("offset: " + offset + " (expected: >= 0)");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw HubException.invalid("limit: " + limit + " (expected: 1-" + MAX_LIMIT + ")");
    }
  }

  public static JobQuery all() {
    return new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 100);
  }
}
