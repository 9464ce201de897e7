package io.progresshub.core;

import java.util.Objects;

/**
 * The lifecycle calls a worker makes for one job, each durable before it returns and broadcast to
 * every subscriber: {@code hub.lifecycle("job-42").markProgress(40, "chunk 4/10")}.
 */
public final class JobLifecycle {
  private final Hub hub;
  private final String jobId;

  JobLifecycle(Hub hub, String jobId) {
    this.hub = hub;
    this.jobId = Objects.requireNonNull(jobId, "jobId");
  }

  public String jobId() {
    return jobId;
  }

  public Job markQueued() {
    return publish(JobUpdate.builder().status(JobStatus.QUEUED));
  }

  public Job markStarted() {
    return publish(JobUpdate.builder().status(JobStatus.IN_PROGRESS));
  }

  public Job markStage(String stage, String message) {
    return publish(JobUpdate.builder().stage(stage).message(message));
  }

  public Job markProgress(double progress, String message) {
    return publish(JobUpdate.builder().progress(progress).message(message));
  }

  public Job markCompleted(Object result) {
    return publish(JobUpdate.builder().status(JobStatus.COMPLETED).result(result));
  }

  public Job markFailed(String error) {
    return publish(JobUpdate.builder().status(JobStatus.FAILED).error(error));
  }

  public Job markCancelled() {
    return publish(JobUpdate.builder().status(JobStatus.CANCELLED));
  }

  private Job publish(JobUpdate.Builder update) {
    return hub.publish(jobId, update.build());
  }
}
