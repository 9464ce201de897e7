package io.progresshub.core;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A request to create a job.
 *
 * @param id the job id, or empty to have one generated
 * @param owner the user the job belongs to (a subscriber may watch the jobs it owns)
 * @param type a free-form kind such as {@code video-analysis}
 * @param status the initial status: {@code pending} (default) or {@code queued}
 */
public record NewJob(
    Optional<String> id,
    String owner,
    String type,
    JobStatus status,
    Optional<String> stage,
    Optional<String> message,
    Map<String, Object> metadata) {

  public NewJob {
    Objects.requireNonNull(id, "id");
    id.ifPresent(JobIds::check);
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(status, "status");
    if (status != JobStatus.PENDING && status != JobStatus.QUEUED) {
      throw HubException.invalid(
          "status: " + status.wireName() + " (expected: pending or queued for a new job)");
    }
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    metadata = JobRules.withoutNullValues(Objects.requireNonNull(metadata, "metadata"));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link NewJob}; defaults: generated id, owner {@code anonymous}, type {@code job}. */
  public static final class Builder {
    private String id;
    private String owner = "anonymous";
    private String type = "job";
    private JobStatus status = JobStatus.PENDING;
    private String stage;
    private String message;
    private Map<String, Object> metadata = Map.of();

    private Builder() {}

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder owner(String owner) {
      this.owner = owner;
      return this;
    }

    public Builder type(String type) {
      this.type = type;
      return this;
    }

    public Builder status(JobStatus status) {
      this.status = status;
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

    public NewJob build() {
      return new NewJob(
          Optional.ofNullable(id),
          owner,
          type,
          status,
          Optional.ofNullable(stage),
          Optional.ofNullable(message),
          metadata);
    }
  }
}
