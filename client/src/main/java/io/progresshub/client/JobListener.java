package io.progresshub.client;

import io.progresshub.protocol.JobState;
import io.progresshub.protocol.ServerMessage;

/**
 * Receives one watched job's states from a {@link ProgressSubscriber}, in {@code seq} order, each
 * once, across reconnects. Called on the subscriber's single event thread: return quickly.
 */
public interface JobListener {

  /** A state newer than every state given before. */
  void onState(JobState state);

  /**
   * An administrator's message to the job's watchers ({@code POST /api/jobs/{id}/broadcast}),
   * received while the job is watched; one missed while the connection was down is not replayed. It
   * is not a state: its {@code status} and {@code seq} are the job's when it was sent, and it moves
   * neither the resume point nor the watch's end. Does nothing by default.
   */
  default void onBroadcast(ServerMessage.Broadcast broadcast) {}

  /**
   * The watch ended without a terminal state: the job does not exist (or is another user's), or the
   * server refused the connection for good (e.g. 4401). Nothing follows.
   */
  default void onError(ProgressHubException error) {}
}
