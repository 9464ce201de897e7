package io.progresshub.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to {@code POST /api/events/batch}: one outcome per entry, in the order given, then how
 * many were accepted and rejected.
 */
public record BatchResult(List<Outcome> results) implements RestBody {

  public BatchResult {
    results = List.copyOf(results);
  }

  public int accepted() {
    return (int) results.stream().filter(Accepted.class::isInstance).count();
  }

  public int rejected() {
    return results.size() - accepted();
  }

  /** What became of one entry. */
  public sealed interface Outcome permits Accepted, Rejected {}

  /**
   * The event was applied.
   *
   * @param seq the event's number
   * @param status the job's status after it
   */
  public record Accepted(String jobId, long seq, String status) implements Outcome {
    public Accepted {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(status, "status");
    }
  }

  /**
   * The event was refused, and nothing of it applied.
   *
   * @param jobId empty when the entry named no readable {@code job_id}
   */
  public record Rejected(Optional<String> jobId, ErrorCode code, String error) implements Outcome {
    public Rejected {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(error, "error");
    }
  }
}
