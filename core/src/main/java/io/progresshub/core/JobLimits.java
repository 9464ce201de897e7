package io.progresshub.core;

/**
 * How large a job's state may grow. Every event stores the job's whole state (in the job, its
 * history and its event id), and every replay and subscriber gets it: without a bound, one
 * publisher adding metadata keys event after event makes every later event, replay and frame of
 * that job as large as it likes, whatever the per-request body limit.
 *
 * @param maxMetadataKeys most top-level metadata keys
 * @param maxStateBytes most bytes of metadata, result, error, message and stage together, counted
 *     as their JSON text in UTF-8
 */
public record JobLimits(int maxMetadataKeys, int maxStateBytes) {

  /** 256 metadata keys, 64 KiB of state. */
  public static final JobLimits DEFAULT = new JobLimits(256, 64 * 1024);

  public JobLimits {
    if (maxMetadataKeys < 1) {
      throw HubException.invalid("max metadata keys: " + maxMetadataKeys + " (expected: >= 1)");
    }
    if (maxStateBytes < 1) {
      throw HubException.invalid("max job state bytes: " + maxStateBytes + " (expected: >= 1)");
    }
  }

  /**
   * Refuses {@code next} if it breaks a limit and grows past what {@code previous} (null for a new
   * job) already had: a job over limits lowered since keeps working, and may shrink.
   *
   * @throws HubException {@code payload_too_large}
   */
  void check(Job previous, Job next) {
    int keys = next.metadata().size();
    if (keys > maxMetadataKeys && (previous == null || keys > previous.metadata().size())) {
      throw HubException.tooLarge(
          "job "
              + next.id()
              + ": "
              + keys
              + " metadata keys (expected: at most "
              + maxMetadataKeys
              + ")");
    }
    long bytes = stateBytes(next);
    if (bytes > maxStateBytes && (previous == null || bytes > stateBytes(previous))) {
      throw HubException.tooLarge(
          "job "
              + next.id()
              + ": state of "
              + bytes
              + " bytes (expected: at most "
              + maxStateBytes
              + " bytes of metadata, result, error, message and stage)");
    }
  }

  /** The bytes {@link #maxStateBytes} counts for {@code job}. */
  public static long stateBytes(Job job) {
    long bytes = JsonSize.of(job.metadata());
    if (job.result().isPresent()) {
      bytes += JsonSize.of(job.result().get());
    }
    bytes += job.error().map(JsonSize::of).orElse(0L);
    bytes += job.message().map(JsonSize::of).orElse(0L);
    bytes += job.stage().map(JsonSize::of).orElse(0L);
    return bytes;
  }
}
