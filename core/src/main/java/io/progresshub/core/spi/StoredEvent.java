package io.progresshub.core.spi;

import io.progresshub.core.Job;
import java.util.Objects;
import java.util.Optional;

/**
 * One accepted event as a store keeps it: the job's state after it, whether it is a transition
 * (kept forever) or a progress tick (compactable), and the producer's {@code event_id}.
 */
public record StoredEvent(Job job, boolean transition, Optional<String> eventId) {
  public StoredEvent {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(eventId, "eventId");
  }
}
