package io.progresshub.protocol;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A job as the REST API answers it ({@code GET /api/jobs/{id}}, create, publish, cancel, and each
 * entry of a list): {@link JobState} plus who owns it and when it was created, started and
 * finished.
 *
 * @param status the wire name, e.g. {@code in_progress}
 * @param seq the number of the job's latest event
 * @param result present only when {@code completed}
 * @param error present only when {@code failed}
 * @param updatedAt when event {@code seq} was accepted
 */
public record JobResource(
    String id,
    String owner,
    String type,
    String status,
    long seq,
    double progress,
    Optional<String> stage,
    Optional<String> message,
    OptionalDouble etaSeconds,
    OptionalDouble elapsedSeconds,
    Map<String, Object> metadata,
    Optional<Object> result,
    Optional<String> error,
    Instant createdAt,
    Instant updatedAt,
    Optional<Instant> startedAt,
    Optional<Instant> finishedAt)
    implements RestBody {

  public JobResource {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(etaSeconds, "etaSeconds");
    Objects.requireNonNull(elapsedSeconds, "elapsedSeconds");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(finishedAt, "finishedAt");
  }
}
