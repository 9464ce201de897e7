package io.progresshub.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The body of {@code POST /api/jobs/{id}/events}, and of each entry of a batch: one event for a
 * job. Every field is optional.
 *
 * @param status the next status, e.g. {@code in_progress}
 * @param progress 0-100
 * @param metadata merged key by key into the job's metadata; a null value removes its key
 * @param result only with {@code status: completed}
 * @param error only with {@code status: failed}
 * @param etaSeconds the producer's own estimate
 * @param eventId makes the publish idempotent: a retry with the same id gets the first answer
 */
public record PublishRequest(
    Optional<String> status,
    OptionalDouble progress,
    Optional<String> stage,
    Optional<String> message,
    Optional<Map<String, Object>> metadata,
    Optional<Object> result,
    Optional<String> error,
    OptionalDouble etaSeconds,
    Optional<String> eventId)
    implements RestBody {

  /** Its JSON fields, in the order they are written; a server refuses any other. */
  public static final List<String> FIELDS =
      List.of(
          "status",
          "progress",
          "stage",
          "message",
          "metadata",
          "result",
          "error",
          "eta_seconds",
          "event_id");

  public PublishRequest {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(progress, "progress");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    metadata = Objects.requireNonNull(metadata, "metadata").map(PlainJson::copyOf);
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(etaSeconds, "etaSeconds");
    Objects.requireNonNull(eventId, "eventId");
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds an event field by field; every field is optional. */
  public static final class Builder {
    private String status;
    private OptionalDouble progress = OptionalDouble.empty();
    private String stage;
    private String message;
    private Map<String, Object> metadata;
    private Object result;
    private String error;
    private OptionalDouble etaSeconds = OptionalDouble.empty();
    private String eventId;

    private Builder() {}

    public Builder status(String status) {
      this.status = status;
      return this;
    }

    public Builder progress(double progress) {
      this.progress = OptionalDouble.of(progress);
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
      this.etaSeconds = OptionalDouble.of(etaSeconds);
      return this;
    }

    public Builder eventId(String eventId) {
      this.eventId = eventId;
      return this;
    }

    public PublishRequest build() {
      return new PublishRequest(
          Optional.ofNullable(status),
          progress,
          Optional.ofNullable(stage),
          Optional.ofNullable(message),
          Optional.ofNullable(metadata),
          Optional.ofNullable(result),
          Optional.ofNullable(error),
          etaSeconds,
          Optional.ofNullable(eventId));
    }
  }
}
