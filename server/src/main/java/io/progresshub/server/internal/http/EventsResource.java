package io.progresshub.server.internal.http;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.Principal;
import io.progresshub.protocol.BatchRequest;
import io.progresshub.protocol.BatchResult;
import io.progresshub.protocol.HistoryPage;
import io.progresshub.server.internal.JobAccess;
import io.progresshub.server.internal.JobEncodings;
import io.progresshub.server.internal.QueryParams;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.WireErrors;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** A job's events: publish one, publish many at once, read the history, stream them as SSE. */
public final class EventsResource {
  /** The most events one batch may hold. */
  public static final int MAX_BATCH = 1000;

  private static final int MAX_HISTORY_PAGE = 1000;

  private final Hub hub;
  private final RestJson json;
  private final Permissions permissions;
  private final SseStream sse;

  EventsResource(ServerContext context, RestJson json, Permissions permissions, SseStream sse) {
    this.hub = context.hub();
    this.json = json;
    this.permissions = permissions;
    this.sse = sse;
  }

  /** {@code POST /api/jobs/{id}/events}: the job's new state once the event is durable. */
  Reply publish(RestRequest request) {
    Principal caller = request.caller();
    Permissions.requirePublisher(caller);
    permissions.requireWithinPublishRate(caller, 1);
    return Reply.ok(
        json.resource(hub.publish(request.param("id"), json.update(request.jsonBody()))));
  }

  /** {@code GET /api/jobs/{id}/events?since=N&limit=L}: retained states after N, oldest first. */
  Reply history(RestRequest request) {
    String jobId = request.param("id");
    JobAccess.watchable(hub, request.caller(), jobId);
    QueryParams query = request.query();
    long since = query.nonNegativeLong("since", 0);
    int limit = query.nonNegativeInt("limit", MAX_HISTORY_PAGE);
    if (limit > MAX_HISTORY_PAGE) {
      throw HubException.invalid("limit: " + limit + " (expected: 1-" + MAX_HISTORY_PAGE + ")");
    }
    List<Job> entries = hub.history(jobId, since, limit);
    return Reply.ok(new HistoryPage(jobId, entries.stream().map(JobEncodings::state).toList()));
  }

  /**
   * {@code POST /api/events/batch}: each event is applied on its own and answered in order. The
   * events share group commits in the store, so this is the fast path for busy producers.
   */
  Reply batch(RestRequest request) {
    Principal caller = request.caller();
    Permissions.requirePublisher(caller);
    List<BatchRequest.Entry> entries = json.batch(request.jsonBody()).events();
    if (entries.isEmpty() || entries.size() > MAX_BATCH) {
      throw HubException.invalid(
          "events: " + entries.size() + " entries (expected: 1-" + MAX_BATCH + ")");
    }
    permissions.requireWithinPublishRate(caller, entries.size());
    List<CompletableFuture<Job>> pending = new ArrayList<>(entries.size());
    List<Optional<String>> jobIds = new ArrayList<>(entries.size());
    for (BatchRequest.Entry entry : entries) {
      Optional<String> jobId = Optional.empty();
      try {
        switch (entry) {
          case BatchRequest.Unreadable unreadable -> {
            jobId = unreadable.jobId();
            throw HubException.invalid(unreadable.error());
          }
          case BatchRequest.Event event -> {
            jobId = Optional.of(json.jobId(event));
            pending.add(hub.publishAsync(jobId.get(), json.update(event.event())));
          }
        }
      } catch (HubException e) {
        pending.add(CompletableFuture.failedFuture(e));
      }
      jobIds.add(jobId);
    }
    List<BatchResult.Outcome> outcomes = new ArrayList<>(pending.size());
    for (int i = 0; i < pending.size(); i++) {
      try {
        Job job = pending.get(i).join();
        outcomes.add(new BatchResult.Accepted(job.id(), job.seq(), job.status().wireName()));
      } catch (CompletionException e) {
        HubException failure =
            e.getCause() instanceof HubException hubError
                ? hubError
                : HubException.unavailable("store failed", e.getCause());
        outcomes.add(
            new BatchResult.Rejected(
                jobIds.get(i), WireErrors.errorCode(failure.reason()), failure.getMessage()));
      }
    }
    return Reply.ok(new BatchResult(outcomes));
  }

  /** {@code GET /api/jobs/{id}/stream}: the job's states as Server-Sent Events. */
  Reply stream(RestRequest request) {
    Principal caller = request.caller();
    sse.start(
        request.target(),
        caller,
        JobAccess.watchable(hub, caller, request.param("id")),
        request.lastEventId(),
        request.uri(),
        request.token());
    return Reply.sent();
  }
}
