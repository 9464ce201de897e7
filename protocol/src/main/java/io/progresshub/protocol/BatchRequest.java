package io.progresshub.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The body of {@code POST /api/events/batch}: {@code {"events": [{"job_id": ..., ...}, ...]}}. The
 * server applies each entry on its own and answers a {@link BatchResult} in the same order, so an
 * entry it cannot read is answered alone ({@link Unreadable}) rather than failing the batch.
 */
public record BatchRequest(List<Entry> events) implements RestBody {

  public BatchRequest {
    events = List.copyOf(events);
  }

  /** One entry of a batch. */
  public sealed interface Entry permits Event, Unreadable {}

  /** An event for one job: {@code job_id} beside the fields of a {@link PublishRequest}. */
  public record Event(String jobId, PublishRequest event) implements Entry {
    public Event {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(event, "event");
    }
  }

  /**
   * An entry as it was sent, which could not be read as an {@link Event}; encoded again as it was.
   *
   * @param json the entry's JSON value, empty for {@code null}
   * @param jobId its {@code job_id}, if that much could be read
   * @param error why it could not be read, naming the field, the bad value and what was expected
   */
  public record Unreadable(Optional<Object> json, Optional<String> jobId, String error)
      implements Entry {
    public Unreadable {
      Objects.requireNonNull(json, "json");
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(error, "error");
    }
  }
}
