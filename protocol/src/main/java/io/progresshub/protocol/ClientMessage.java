package io.progresshub.protocol;

import java.util.Optional;
import java.util.OptionalLong;

/** Commands a client sends. Any command may carry an {@code id} that the reply echoes. */
public sealed interface ClientMessage {

  /** The command's {@code id} on the wire, which the reply echoes. */
  Optional<String> requestId();

  /** Watch a job; with {@code since}, replay every state change after that seq first. */
  record Subscribe(String jobId, OptionalLong since, Optional<String> requestId)
      implements ClientMessage {}

  record Unsubscribe(String jobId, Optional<String> requestId) implements ClientMessage {}

  record Ping(Optional<String> requestId) implements ClientMessage {}

  /** First-message authentication, or a token refresh on a live connection. */
  record Auth(String token, Optional<String> requestId) implements ClientMessage {}

  /** Ask for the job to be cancelled (its owner, a listed watcher, or staff). */
  record Cancel(String jobId, Optional<String> requestId) implements ClientMessage {}
}
