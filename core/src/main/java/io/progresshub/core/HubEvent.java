package io.progresshub.core;

/**
 * What the hub tells every node after a change became durable. Carried by the {@link
 * io.progresshub.core.spi.Broker}.
 */
public sealed interface HubEvent {

  String jobId();

  /**
   * A job reached a new state.
   *
   * @param change what the event changed; every change but a tick is a transition
   */
  record JobUpdated(Job job, Change change) implements HubEvent {
    @Override
    public String jobId() {
      return job.id();
    }

    /** Whether the event changed status or stage (never conflated away). */
    public boolean transition() {
      return change != Change.TICK;
    }
  }

  /** What an event changed in its job, most significant first. */
  enum Change {
    /** The job's first state. */
    CREATED,
    /** Its status (every terminal state is one). */
    STATUS,
    /** Its stage, the status unchanged. */
    STAGE,
    /** Progress, message, metadata or ETA only: a tick, which may be conflated. */
    TICK
  }

  /** A job was deleted or expired; its subscribers are told and dropped. */
  record JobRemoved(String jobId) implements HubEvent {}
}
