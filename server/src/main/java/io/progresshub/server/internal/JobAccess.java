package io.progresshub.server.internal;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.Principal;

/**
 * Who may see and cancel which job, decided once for REST, WebSocket and SSE. Another user's job is
 * answered exactly like an unknown one, so that job ids cannot be probed.
 */
public final class JobAccess {
  private JobAccess() {}

  /**
   * The job, if {@code caller} may watch it.
   *
   * @throws HubException {@code job_not_found} for an unknown job and for another user's alike
   */
  public static Job watchable(Hub hub, Principal caller, String jobId) {
    Job job = hub.get(jobId);
    if (!caller.canWatch(job)) {
      throw HubException.jobNotFound(jobId);
    }
    return job;
  }

  /** Cancels the job if {@code caller} may; answers like {@link #watchable} otherwise. */
  public static Job cancel(Hub hub, Principal caller, String jobId) {
    Job job = watchable(hub, caller, jobId);
    if (!caller.canCancel(job)) {
      throw HubException.forbidden("you may not cancel job " + jobId);
    }
    return hub.cancel(jobId);
  }
}
