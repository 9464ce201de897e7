package io.progresshub.core.spi;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import java.util.Objects;
import java.util.Optional;

/**
 * One accepted event as a store keeps it: the job's state after it, whether it is a transition
 * (kept forever) or a progress tick (compactable), and the producer's {@code event_id}.
 *
 * @param builtOn the state {@code job} was computed from, when the writer does not know that state
 *     to be durable yet: it pipelines, and the append of that state is still in flight. The event
 *     then lands only if the store holds a state equal to it (see {@link JobStore}). Empty when the
 *     state it was computed from is durable: its seq, {@code job.seq() - 1}, names it alone.
 */
public record StoredEvent(
    Job job, boolean transition, Optional<String> eventId, Optional<Job> builtOn) {

  public StoredEvent {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(eventId, "eventId");
    Objects.requireNonNull(builtOn, "builtOn");
    if (builtOn.isPresent()
        && (!builtOn.get().id().equals(job.id()) || builtOn.get().seq() != job.seq() - 1)) {
      throw new IllegalArgumentException(
          "builtOn: job "
              + builtOn.get().id()
              + " seq "
              + builtOn.get().seq()
              + " (expected: job "
              + job.id()
              + " seq "
              + (job.seq() - 1)
              + ")");
    }
  }

  /** An event computed from a durable state. */
  public StoredEvent(Job job, boolean transition, Optional<String> eventId) {
    this(job, transition, eventId, Optional.empty());
  }

  /**
   * Why this event may not follow the stored seq {@code storedSeq} (which is not {@code job.seq() -
   * 1}): {@code stale_seq} when another writer took its seq, {@code store_unavailable} when it was
   * built on an event that never landed. The one wording of both for every store.
   */
  public HubException outOfOrder(long storedSeq) {
    if (job.seq() <= storedSeq) {
      return HubException.staleSeq(job.id(), job.seq(), "the stored seq is already " + storedSeq);
    }
    // Built on an event that failed: that one's changes must not become visible inside this one.
    return HubException.unavailable(
        "job "
            + job.id()
            + ": event seq "
            + job.seq()
            + " (expected: "
            + (storedSeq + 1)
            + ", right after the stored seq "
            + storedSeq
            + ")",
        null);
  }

  /** Why this event may not land on a stored state other than the one it was built on. */
  public HubException builtOnOther() {
    return HubException.staleSeq(
        job.id(),
        job.seq(),
        "it was built on a seq " + (job.seq() - 1) + " other than the stored one");
  }
}
