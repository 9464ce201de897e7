package io.progresshub.core;

import java.util.Locale;
import java.util.Optional;

/**
 * The lifecycle of a job: {@code pending -> queued -> in_progress -> completed | failed |
 * cancelled}. Pending and queued jobs may also go straight to failed or cancelled. Terminal states
 * are final.
 */
public enum JobStatus {
  PENDING,
  QUEUED,
  IN_PROGRESS,
  COMPLETED,
  FAILED,
  CANCELLED;

  private final String wireName = name().toLowerCase(Locale.ROOT);

  /** The lower-case name used on the wire and in storage, e.g. {@code in_progress}. */
  public String wireName() {
    return wireName;
  }

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  /** Whether a job may move from this status to {@code next}; staying put is always allowed. */
  public boolean canMoveTo(JobStatus next) {
    if (next == this) {
      return !isTerminal();
    }
    return switch (this) {
      case PENDING -> next != COMPLETED;
      case QUEUED -> next != PENDING && next != COMPLETED;
      case IN_PROGRESS -> next.isTerminal();
      case COMPLETED, FAILED, CANCELLED -> false;
    };
  }

  /** Parses a wire name such as {@code in_progress}; empty for an unknown name. */
  public static Optional<JobStatus> fromWireName(String name) {
    for (JobStatus status : values()) {
      if (status.wireName.equals(name)) {
        return Optional.of(status);
      }
    }
    return Optional.empty();
  }
}
