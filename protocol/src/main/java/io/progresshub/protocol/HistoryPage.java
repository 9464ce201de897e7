package io.progresshub.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The answer to {@code GET /api/jobs/{id}/events}: retained states oldest first, each written as a
 * {@code progress} message ({@link ServerMessage.Progress} without {@code replay}).
 */
public record HistoryPage(String jobId, List<JobState> events) implements RestBody {

  public HistoryPage {
    Objects.requireNonNull(jobId, "jobId");
    events = List.copyOf(events);
  }
}
