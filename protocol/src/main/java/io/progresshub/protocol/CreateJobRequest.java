package io.progresshub.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The body of {@code POST /api/jobs}. Every field is optional: the server generates an id, and the
 * owner defaults to the caller.
 *
 * @param status {@code pending} or {@code queued}
 * @param metadata JSON values; may hold nulls
 */
public record CreateJobRequest(
    Optional<String> id,
    Optional<String> type,
    Optional<String> owner,
    Optional<String> status,
    Optional<String> stage,
    Optional<String> message,
    Optional<Map<String, Object>> metadata)
    implements RestBody {

  /** Its JSON fields, in the order they are written; a server refuses any other. */
  public static final List<String> FIELDS =
      List.of("id", "type", "owner", "status", "stage", "message", "metadata");

  public CreateJobRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    metadata = Objects.requireNonNull(metadata, "metadata").map(PlainJson::copyOf);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a request field by field; every field is optional. */
  public static final class Builder {
    private String id;
    private String type;
    private String owner;
    private String status;
    private String stage;
    private String message;
    private Map<String, Object> metadata;

    private Builder() {}

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder type(String type) {
      this.type = type;
      return this;
    }

    public Builder owner(String owner) {
      this.owner = owner;
      return this;
    }

    public Builder status(String status) {
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

    public CreateJobRequest build() {
      return new CreateJobRequest(
          Optional.ofNullable(id),
          Optional.ofNullable(type),
          Optional.ofNullable(owner),
          Optional.ofNullable(status),
          Optional.ofNullable(stage),
          Optional.ofNullable(message),
          Optional.ofNullable(metadata));
    }
  }
}
