package io.progresshub.core;

/**
 * Receives one job's states. Calls for one subscription never overlap and come in {@code seq}
 * order, each {@code seq} at most once: first {@link #onSubscribed}, then the replayed history and
 * the current state ({@code replay = true}), then live states. {@code onSubscribed} and the replay
 * run on the thread that called {@code subscribe}, live states on the hub's dispatch thread; none
 * may block: hand the state to your own queue or event loop. A callback already running when the
 * subscription is closed may still complete.
 */
public interface Subscriber {

  /**
   * The subscription is active.
   *
   * @param current the job's state when the subscription started
   * @param recovered whether every change after the requested {@code since} is replayed; false when
   *     no {@code since} was given or it could not be honoured (drop local state then)
   */
  void onSubscribed(Job current, boolean recovered);

  /**
   * The job's state after event {@code job.seq()}.
   *
   * @param replay whether this state is history or the state at subscription, not a live change
   * @param transition whether it changed status or stage; other states may be conflated
   */
  void onJob(Job job, boolean replay, boolean transition);

  /** The job was deleted or expired. Nothing follows. */
  default void onRemoved(String jobId) {}

  /**
   * Called on the subscribing thread between pages of a replay: may block until this subscriber can
   * take more (its connection has drained what it was given), so that a long replay is streamed as
   * the client reads it rather than queued whole. Returning false abandons the replay and closes
   * the subscription. Live states that arrive meanwhile are held (ticks conflated) and follow the
   * replay. The default never waits.
   */
  default boolean awaitReplayDemand() {
    return true;
  }
}
