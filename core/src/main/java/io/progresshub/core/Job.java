package io.progresshub.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The full state of a job right after its event {@link #seq()}. Immutable: every accepted event
 * produces a new snapshot, and any single snapshot is enough to draw the job.
 *
 * <p>JSON-valued fields ({@code metadata}, {@code result}) hold plain Java values: {@code String},
 * {@code Number}, {@code Boolean}, {@code List}, {@code Map<String, ?>} and {@code null} inside
 * containers, so the core needs no JSON library.
 *
 * @param updatedAt when event {@code seq} was accepted; the {@code timestamp} on the wire
 * @param progressAtStart progress when the job entered {@code in_progress}; the base of the ETA
 */
public record Job(
    String id,
    String owner,
    String type,
    JobStatus status,
    long seq,
    double progress,
    Optional<String> stage,
    Optional<String> message,
    Map<String, Object> metadata,
    Optional<Object> result,
    Optional<String> error,
    Instant createdAt,
    Instant updatedAt,
    Optional<Instant> startedAt,
    Optional<Instant> finishedAt,
    OptionalDouble etaSeconds,
    double progressAtStart) {

  public Job {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata"));
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(finishedAt, "finishedAt");
    Objects.requireNonNull(etaSeconds, "etaSeconds");
  }

  /**
   * Seconds the job has been running at this snapshot: from {@code startedAt} to {@code finishedAt}
   * (or {@code updatedAt} while running). Empty for a job that never started.
   */
  public OptionalDouble elapsedSeconds() {
    if (startedAt.isEmpty()) {
      return OptionalDouble.empty();
    }
    Instant end = finishedAt.orElse(updatedAt);
    return OptionalDouble.of(seconds(Duration.between(startedAt.get(), end)));
  }

  public boolean isTerminal() {
    return status.isTerminal();
  }

  static double seconds(Duration duration) {
    return Math.max(0, duration.toNanos() / 1_000_000L) / 1000.0;
  }
}
