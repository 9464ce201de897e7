package io.progresshub.client;

import java.util.Objects;
import java.util.Optional;

/**
 * Filters and page of {@code GET /api/jobs}: every filter optional, newest first.
 *
 * @param status e.g. {@code in_progress}
 * @param limit 1-1000
 */
public record JobQuery(
    Optional<String> status, Optional<String> owner, Optional<String> type, int offset, int limit) {

  /** Every job, the first 100. */
  public static final JobQuery ALL =
      new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 100);

  public JobQuery {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    if (offset < 0) {
      throw new IllegalArgumentException("offset: " + offset + " (expected: >= 0)");
    }
    if (limit < 1 || limit > 1000) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: 1-1000)");
    }
  }

  public JobQuery withStatus(String status) {
    return new JobQuery(Optional.of(status), owner, type, offset, limit);
  }

  public JobQuery withOwner(String owner) {
    return new JobQuery(status, Optional.of(owner), type, offset, limit);
  }

  public JobQuery withType(String type) {
    return new JobQuery(status, owner, Optional.of(type), offset, limit);
  }

  public JobQuery withPage(int offset, int limit) {
    return new JobQuery(status, owner, type, offset, limit);
  }
}
