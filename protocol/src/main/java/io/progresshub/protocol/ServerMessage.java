package io.progresshub.protocol;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
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

  /**
   * An administrator's message to a job's watchers ({@code POST /api/jobs/{id}/broadcast}).
   *
   * @param status the job's status when it was sent
   * @param seq the job's seq when it was sent
   * @param data any JSON value, as plain Java values (maps, lists, strings, numbers, booleans)
   */
  record Broadcast(String jobId, String status, long seq, Object data, Instant timestamp)
      implements ServerMessage {}

  /**
   * On {@code /ws/monitor}, every few seconds: what the hub holds and this node is doing.
   *
   * @param jobsByStatus stored jobs per status wire name, in the order written
   * @param connections this node's open connections
   * @param subscriptions this node's job subscriptions
   * @param watchedJobs jobs with at least one subscription on this node
   * @param publishesPerSecond events (creates included) this node learnt of, per second, over the
   *     last interval
   * @param deliveriesPerSecond messages written to this node's subscribers per second
   * @param storePendingWrites events handed to the store and not yet durable
   * @param storeCommitMillisP99 the 99th percentile of the store's commit latency
   */
  record SystemStatus(
      Instant timestamp,
      Map<String, Long> jobsByStatus,
      long connections,
      long subscriptions,
      long watchedJobs,
      double publishesPerSecond,
      double deliveriesPerSecond,
      long storePendingWrites,
      double storeCommitMillisP99)
      implements ServerMessage {
    public SystemStatus {
      jobsByStatus = Collections.unmodifiableMap(new LinkedHashMap<>(jobsByStatus));
    }
  }

  /**
   * On {@code /ws/monitor}: a job was created or changed status.
   *
   * @param created whether this is its first state ({@code job_created}, else {@code job_status})
   */
  record JobChanged(
      boolean created,
      String jobId,
      String status,
      long seq,
      String owner,
      String jobType,
      double progress,
      Optional<String> stage,
      Instant timestamp)
      implements ServerMessage {
    public JobChanged {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(stage, "stage");
    }
  }
}
