package io.progresshub.core;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One event from a producer: any of the fields may be set. {@code metadata} is merged into the
 * job's metadata key by key (a {@code null} value removes the key). {@code eventId} makes the
 * publish idempotent: a retry with the same id is answered with the original result and is not
 * broadcast again.
 */
public record JobUpdate(
    Optional<JobStatus> status,
    OptionalDouble progress,
    Optional<String> stage,
    Optional<String> message,
    Optional<Map<String, Object>> metadata,
    Optional<Object> result,
    Optional<String> error,
    OptionalDouble etaSeconds,
    Optional<String> eventId) {

  public static final int MAX_EVENT_ID_LENGTH = 128;

  public JobUpdate {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(progress, "progress");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(etaSeconds, "etaSeconds");
    Objects.requireNonNull(eventId, "eventId");
    if (progress.isPresent()) {
      double p = progress.getAsDouble();
      if (!(p >= 0 && p <= 100)) {
        throw HubException.invalid("progress: " + p + " (expected: 0-100)");
      }
    }
    if (etaSeconds.isPresent()) {
      double eta = etaSeconds.getAsDouble();
      if (!(eta >= 0 && Double.isFinite(eta))) {
        throw HubException.invalid("eta_seconds: " + eta + " (expected: a number >= 0)");
      }
    }
    eventId.ifPresent(
        id -> {
          if (id.isEmpty() || id.length() > MAX_EVENT_ID_LENGTH) {
            throw HubException.invalid(
                "event_id: length " + id.length() + " (expected: 1-" + MAX_EVENT_ID_LENGTH + ")");
          }
        });
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link JobUpdate}; every field is optional. */
  public static final class Builder {
    private JobStatus status;
    private Double progress;
    private String stage;
    private String message;
    private Map<String, Object> metadata;
    private Object result;
    private String error;
    private Double etaSeconds;
    private String eventId;

    private Builder() {}

    public Builder status(JobStatus status) {
      this.status = status;
      return this;
    }

    public Builder progress(double progress) {
      this.progress = progress;
      return this;
    }

    public Builder stage(String stage) {
      this.stage = stage;
      return this;
    }

    public Builder message(String message) {
      this.message = message;
      return this;
    }

    public Builder metadata(Map<String, Object> metadata) {
      this.metadata = metadata;
      return this;
    }

    public Builder result(Object result) {
      this.result = result;
      return this;
    }

    public Builder error(String error) {
      this.error = error;
      return this;
    }

    public Builder etaSeconds(double etaSeconds) {
      this.etaSeconds = etaSeconds;
      return this;
    }

    public Builder eventId(String eventId) {
      this.eventId = eventId;
      return this;
    }

    public JobUpdate build() {
      return new JobUpdate(
          Optional.ofNullable(status),
          progress == null ? OptionalDouble.empty() : OptionalDouble.of(progress),
          Optional.ofNullable(stage),
          Optional.ofNullable(message),
          Optional.ofNullable(metadata),
          Optional.ofNullable(result),
          Optional.ofNullable(error),
          etaSeconds == null ? OptionalDouble.empty() : OptionalDouble.of(etaSeconds),
          Optional.ofNullable(eventId));
    }
  }
}
