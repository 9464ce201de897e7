package io.progresshub.server.internal.http;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.protocol.JobListPage;
import io.progresshub.server.internal.JobAccess;
import io.progresshub.server.internal.QueryParams;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.Text;
import java.util.Optional;

/** Jobs as resources: list, create, read, delete and cancel. */
final class JobsResource {
  private static final int DEFAULT_PAGE = 100;

  private final Hub hub;
  private final RestJson json;
  private final Permissions permissions;

  JobsResource(ServerContext context, RestJson json, Permissions permissions) {
    this.hub = context.hub();
    this.json = json;
    this.permissions = permissions;
  }

  /**
   * {@code GET /api/jobs}: newest first, filtered by status, owner, type and {@code q} (a part of
   * the id); a subscriber sees only its own jobs.
   */
  Reply list(RestRequest request) {
    Principal caller = request.caller();
    QueryParams query = request.query();
    Optional<String> owner = query.get("owner");
    if (caller.role() == Role.SUBSCRIBER) {
      if (owner.isPresent() && !owner.get().equals(caller.subject())) {
        throw HubException.forbidden("subscribers may list only their own jobs");
      }
      owner = Optional.of(caller.subject());
    }
    Optional<JobStatus> status = query.get("status").map(JobsResource::status);
    int limit = query.nonNegativeInt("limit", DEFAULT_PAGE);
    int offset = query.nonNegativeInt("offset", 0);
    JobPage page =
        hub.list(
            new JobQuery(
                status,
                owner,
                query.get("type"),
                query.get("q").filter(q -> !q.isEmpty()),
                offset,
                limit));
    return Reply.ok(
        new JobListPage(
            page.jobs().stream().map(json::resource).toList(), page.total(), offset, limit));
  }

  /** {@code POST /api/jobs}: 201 with the new job. */
  Reply create(RestRequest request) {
    Principal caller = request.caller();
    if (!caller.canPublish()) {
      throw HubException.forbidden("creating jobs needs the publisher or admin role");
    }
    permissions.requireWithinPublishRate(caller, 1);
    Job job = hub.create(json.newJob(request.jsonBody(), caller.subject(), caller.canPublish()));
    return Reply.created(json.resource(job));
  }

  /** {@code GET /api/jobs/{id}}. */
  Reply get(RestRequest request) {
    return Reply.ok(json.resource(JobAccess.watchable(hub, request.caller(), request.param("id"))));
  }

  /** {@code DELETE /api/jobs/{id}}: 204. */
  Reply delete(RestRequest request) {
    Permissions.requirePublisher(request.caller());
    String jobId = request.param("id");
    if (!hub.delete(jobId)) {
      throw HubException.jobNotFound(jobId);
    }
    return Reply.noContent();
  }

  /** {@code POST /api/jobs/{id}/cancel}: the cancelled job. */
  Reply cancel(RestRequest request) {
    return Reply.ok(json.resource(JobAccess.cancel(hub, request.caller(), request.param("id"))));
  }

  private static JobStatus status(String name) {
    return JobStatus.fromWireName(name)
        .orElseThrow(
            () ->
                HubException.invalid(
                    "status: '" + Text.abbreviate(name) + "' (expected: a job status)"));
  }
}
