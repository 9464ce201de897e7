package io.progresshub.protocol;

import java.time.Instant;
import java.util.Optional;

/**
 * Messages the server sends. Any message with a {@code job_id} also has {@code status} and {@code
 * seq}.
 */
public sealed interface ServerMessage {

  /** First message on every connection. */
  record ConnectionEstablished(
      String connectionId, long heartbeatIntervalSeconds, Instant timestamp)
      implements ServerMessage {}

  /**
   * A subscription is active.
   *
   * @param seq the job's current seq
   * @param recovered whether every change after the client's {@code since} follows as replay
   */
  record Subscribed(
      String jobId, String status, long seq, boolean recovered, Optional<String> requestId)
      implements ServerMessage {}

  /** A job's full state; {@code replay} marks history and the state sent at subscription. */
  record Progress(JobState state, boolean replay) implements ServerMessage {}

  record Unsubscribed(String jobId, String status, long seq, Optional<String> requestId)
      implements ServerMessage {}

  /** Reply to {@code cancel}: the job's state after cancellation. */
  record Cancelled(String jobId, String status, long seq, Optional<String> requestId)
      implements ServerMessage {}

  record Pong(Optional<String> requestId, Instant timestamp) implements ServerMessage {}

  /** Sent every heartbeat interval, for browsers that cannot see ping frames. */
  record Heartbeat(long sequence, Instant timestamp) implements ServerMessage {}

  /** Reply to {@code auth}. */
  record Authenticated(
      String subject, String role, Optional<Instant> expiresAt, Optional<String> requestId)
      implements ServerMessage {}

  /** A command failed; the connection stays open unless a close frame follows. */
  record Error(ErrorCode code, String message, Optional<String> requestId)
      implements ServerMessage {}
}
