package io.progresshub.client;

import io.progresshub.protocol.JobState;

/**
 * Receives one watched job's states from a {@link ProgressSubscriber}, in {@code seq} order, each
 * once, across reconnects. Called on the subscriber's single event thread: return quickly.
 */
public interface JobListener {

  /** A state newer than every state given before. */
  void onState(JobState state);

  /**
   * The watch ended without a terminal state: the job does not exist (or is another user's), or the
   * server refused the connection for good (e.g. 4401). Nothing follows.
   */
  default void onError(ProgressHubException error) {}
}
