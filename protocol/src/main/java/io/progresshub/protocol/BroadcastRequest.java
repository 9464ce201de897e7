package io.progresshub.protocol;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The body of {@code POST /api/jobs/{id}/broadcast}: a message for the job's watchers.
 *
 * @param data any JSON value but {@code null}, as plain Java values; the watchers get it as is
 * @param exclude a connection that should not get it (typically the sender's own)
 */
public record BroadcastRequest(Object data, Optional<String> exclude) implements RestBody {

  /** The fields a request may have; any other is refused. */
  static final Set<String> FIELDS = Set.of("data", "exclude");

  public BroadcastRequest {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(exclude, "exclude");
  }
}
