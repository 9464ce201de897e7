package io.progresshub.protocol;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A job's full state after event {@code seq}, as every {@code progress} message, SSE event and
 * history entry carries it. JSON values are plain Java values (maps, lists, strings, numbers,
 * booleans).
 *
 * @param status the wire name, e.g. {@code in_progress}
 * @param timestamp when event {@code seq} was accepted
 */
public record JobState(
    String jobId,
    long seq,
    String status,
    double progress,
    Optional<String> stage,
    Optional<String> message,
    OptionalDouble etaSeconds,
    OptionalDouble elapsedSeconds,
    Instant timestamp,
    Map<String, Object> metadata,
    Optional<Object> result,
    Optional<String> error) {

  public JobState {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(etaSeconds, "etaSeconds");
    Objects.requireNonNull(elapsedSeconds, "elapsedSeconds");
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(error, "error");
  }

  public boolean isTerminal() {
    return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
  }
}
