package io.progresshub.core;

import java.util.Objects;
import java.util.Set;

/**
 * An authenticated caller.
 *
 * @param subject the user ({@code sub} claim); jobs created by this caller are owned by it
 * @param role what the caller may do
 * @param jobs ids of jobs a subscriber may watch besides its own ({@code jobs} claim)
 */
public record Principal(String subject, Role role, Set<String> jobs) {

  public Principal {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(role, "role");
    jobs = Set.copyOf(jobs);
  }

  /** The caller used when authentication is switched off for development. */
  public static Principal developer() {
    return new Principal("developer", Role.ADMIN, Set.of());
  }

  public boolean canWatch(Job job) {
    return role != Role.SUBSCRIBER || job.owner().equals(subject) || jobs.contains(job.id());
  }

  /** Cancelling is open to whoever may watch the job: its owner, a listed watcher, or staff. */
  public boolean canCancel(Job job) {
    return canWatch(job);
  }

  public boolean canPublish() {
    return role != Role.SUBSCRIBER;
  }

  public boolean isAdmin() {
    return role == Role.ADMIN;
  }
}
