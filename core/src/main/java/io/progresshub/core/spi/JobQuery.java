package io.progresshub.core.spi;

import io.progresshub.core.HubException;
import io.progresshub.core.JobStatus;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A filter and page for listing jobs, newest first.
 *
 * @param idContains only jobs whose id contains this text, ignoring case (a search box's filter)
 * @param offset how many matching jobs to skip
 * @param limit at most this many jobs (1-1000)
 */
public record JobQuery(
    Optional<JobStatus> status,
    Optional<String> owner,
    Optional<String> type,
    Optional<String> idContains,
    int offset,
    int limit) {

  public static final int MAX_LIMIT = 1000;

  /** The longest search text: no job id is longer. */
  public static final int MAX_SEARCH_LENGTH = 128;

  public JobQuery {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(idContains, "idContains");
    idContains = idContains.map(text -> text.toLowerCase(Locale.ROOT));
    if (idContains.isPresent() && idContains.get().length() > MAX_SEARCH_LENGTH) {
      throw HubException.invalid(
          "q: " + idContains.get().length() + " characters (expected: at most 128)");
    }
    if (offset < 0) {
      throw HubException.invalid("offset: " + offset + " (expected: >= 0)");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw HubException.invalid("limit: " + limit + " (expected: 1-" + MAX_LIMIT + ")");
    }
  }

  /** Without a search. */
  public JobQuery(
      Optional<JobStatus> status,
      Optional<String> owner,
      Optional<String> type,
      int offset,
      int limit) {
    this(status, owner, type, Optional.empty(), offset, limit);
  }

  public static JobQuery all() {
    return new JobQuery(Optional.empty(), Optional.empty(), Optional.empty(), 0, 100);
  }

  /** Whether {@code id} passes the search ({@code idContains} is already in lower case). */
  public boolean idMatches(String id) {
    return idContains.isEmpty() || id.toLowerCase(Locale.ROOT).contains(idContains.get());
  }
}
