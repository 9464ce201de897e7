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
   * @param transition whether the event changed status or stage (never conflated away)
   */
  record JobUpdated(Job job, boolean transition) implements HubEvent {
    @Override
    public String jobId() {
      return job.id();
    }
  }

  /** A job was deleted or expired; its subscribers are told and dropped. */
  record JobRemoved(String jobId) implements HubEvent {}
}
