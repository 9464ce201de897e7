package io.progresshub.server.internal.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.core.HubException;
import io.progresshub.core.HubStats;
import io.progresshub.core.Job;
import io.progresshub.core.JobIds;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.auth.Authenticator;
import io.progresshub.server.internal.ApiException;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.HttpRouter;
import io.progresshub.server.internal.JobAccess;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.WireErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API of DESIGN.md: jobs, events, history, cancel, batch publish, stats. Requests are
 * served on virtual threads because they may wait for the store; the event loop only parses and
 * writes.
 */
public final class RestApi {
  private static final Logger LOG = LoggerFactory.getLogger(RestApi.class);
  public static final int MAX_BATCH = 1000;
  private static final int MAX_HISTORY_PAGE = 1000;

  private final ServerContext context;
  private final JobJson json;
  private final SseStream sse;

  public RestApi(ServerContext context) {
    this.context = context;
    this.json = context.json();
    this.sse = new SseStream(context);
  }

  /** One parsed request, detached from Netty's reference-counted buffers. */
  private record Call(
      HttpMethod method,
      List<String> path,
      QueryStringDecoder query,
      byte[] body,
      Optional<String> token,
      Optional<String> lastEventId,
      boolean isJson,
      HttpResponses.Target target) {

    Call withTarget(HttpResponses.Target target) {
      return new Call(method, path, query, body, token, lastEventId, isJson, target);
    }
  }

  public void handle(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      QueryStringDecoder query,
      HttpResponses.Target connection) {
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    Call call =
        new Call(
            request.method(),
            segments(query.path()),
            query,
            ByteBufUtil.getBytes(request.content()),
            Authenticator.token(request, query),
            Optional.ofNullable(request.headers().get("Last-Event-ID")),
            contentType == null || contentType.toLowerCase().startsWith("application/json"),
            connection);
    if (call.path().equals(List.of("health"))) {
      health(call);
      return;
    }
    // HTTP/1.1 answers must follow request order, and this one is answered from another thread:
    // read no further request on this connection until it is (HttpResponses turns reading on).
    ctx.channel().config().setAutoRead(false);
    Call paused = call.withTarget(connection.pausingReads());
    try {
      context.blocking().execute(() -> serve(paused));
    } catch (RejectedExecutionException shuttingDown) {
      HttpResponses.error(paused.target(), ErrorCode.SHUTTING_DOWN, "server is shutting down");
    }
  }

  private void health(Call call) {
    if (!call.method().equals(HttpMethod.GET) && !call.method().equals(HttpMethod.HEAD)) {
      HttpResponses.error(call.target(), ErrorCode.METHOD_NOT_ALLOWED, "use GET /health");
      return;
    }
    HttpResponses.json(
        call.target(), HttpResponseStatus.OK, HttpRouter.utf8("{\"status\":\"ok\"}"));
  }

  private void serve(Call call) {
    try {
      route(call);
    } catch (HubException e) {
      HttpResponses.error(call.target(), WireErrors.of(e));
    } catch (ApiException e) {
      HttpResponses.error(call.target(), WireErrors.of(e));
    } catch (RuntimeException e) {
      LOG.error("request failed: {} /{}", call.method(), String.join("/", call.path()), e);
      HttpResponses.error(call.target(), ErrorCode.INTERNAL_ERROR, "internal error");
    }
  }

  private void route(Call call) {
    List<String> path = call.path();
    HttpMethod method = call.method();
    if (path.isEmpty() || !path.get(0).equals("api")) {
      throw notFound();
    }
    Principal caller = authenticate(call);
    if (path.size() == 2 && path.get(1).equals("jobs")) {
      if (method.equals(HttpMethod.GET)) {
        listJobs(call, caller);
      } else if (method.equals(HttpMethod.POST)) {
        createJob(call, caller);
      } else {
        throw methodNotAllowed("GET, POST");
      }
    } else if (path.size() >= 3 && path.get(1).equals("jobs")) {
      String jobId = JobIds.check(path.get(2));
      String action = path.size() == 4 ? path.get(3) : path.size() == 3 ? "" : null;
      if (action == null) {
        throw notFound();
      }
      switch (action) {
        case "" -> {
          if (method.equals(HttpMethod.GET)) {
            ok(call, json.job(watchable(caller, jobId)));
          } else if (method.equals(HttpMethod.DELETE)) {
            deleteJob(call, caller, jobId);
          } else {
            throw methodNotAllowed("GET, DELETE");
          }
        }
        case "events" -> {
          if (method.equals(HttpMethod.POST)) {
            publish(call, caller, jobId);
          } else if (method.equals(HttpMethod.GET)) {
            history(call, caller, jobId);
          } else {
            throw methodNotAllowed("GET, POST");
          }
        }
        case "cancel" -> {
          requireMethod(call, HttpMethod.POST);
          ok(call, json.job(JobAccess.cancel(context.hub(), caller, jobId)));
        }
        case "stream" -> {
          requireMethod(call, HttpMethod.GET);
          sse.start(
              call.target(),
              caller,
              watchable(caller, jobId),
              call.lastEventId(),
              call.query(),
              call.token());
        }
        default -> throw notFound();
      }
    } else if (path.equals(List.of("api", "events", "batch"))) {
      requireMethod(call, HttpMethod.POST);
      batch(call, caller);
    } else if (path.equals(List.of("api", "stats"))) {
      requireMethod(call, HttpMethod.GET);
      requireAdmin(caller);
      stats(call);
    } else {
      throw notFound();
    }
  }

  // ------------------------------------------------------------------ handlers

  private void listJobs(Call call, Principal caller) {
    Optional<String> owner = param(call, "owner");
    if (caller.role() == Role.SUBSCRIBER) {
      if (owner.isPresent() && !owner.get().equals(caller.subject())) {
        throw HubException.forbidden("subscribers may list only their own jobs");
      }
      owner = Optional.of(caller.subject());
    }
    Optional<JobStatus> status =
        param(call, "status")
            .map(
                name ->
                    JobStatus.fromWireName(name)
                        .orElseThrow(
                            () ->
                                HubException.invalid(
                                    "status: '"
                                        + JobJson.abbreviate(name)
                                        + "' (expected: a job status)")));
    int limit = intParam(call, "limit", 100);
    int offset = intParam(call, "offset", 0);
    JobPage page =
        context.hub().list(new JobQuery(status, owner, param(call, "type"), offset, limit));
    ObjectNode body = json.objectNode();
    ArrayNode jobs = body.putArray("jobs");
    page.jobs().forEach(job -> jobs.add(json.job(job)));
    body.put("total", page.total());
    body.put("offset", offset);
    body.put("limit", limit);
    ok(call, body);
  }

  private void createJob(Call call, Principal caller) {
    if (!caller.canPublish()) {
      throw HubException.forbidden("creating jobs needs the publisher or admin role");
    }
    requireWithinPublishRate(caller, 1);
    ObjectNode body = json.object(requireJson(call));
    Job job = context.hub().create(json.newJob(body, caller.subject(), caller.canPublish()));
    HttpResponses.json(call.target(), HttpResponseStatus.CREATED, json.bytes(json.job(job)));
  }

  private void publish(Call call, Principal caller, String jobId) {
    requirePublisher(caller);
    requireWithinPublishRate(caller, 1);
    JobUpdate update = json.update(json.object(requireJson(call)));
    ok(call, json.job(context.hub().publish(jobId, update)));
  }

  private void history(Call call, Principal caller, String jobId) {
    watchable(caller, jobId);
    long since = longParam(call, "since", 0);
    int limit = intParam(call, "limit", MAX_HISTORY_PAGE);
    if (limit > MAX_HISTORY_PAGE) {
      throw HubException.invalid("limit: " + limit + " (expected: 1-" + MAX_HISTORY_PAGE + ")");
    }
    List<Job> entries = context.hub().history(jobId, since, limit);
    // Entries are the progress messages' own encoding, spliced in as they are: job ids are
    // validated to [A-Za-z0-9._:-], so the id needs no escaping.
    java.io.ByteArrayOutputStream body =
        new java.io.ByteArrayOutputStream(256 + 320 * entries.size());
    body.writeBytes(HttpRouter.utf8("{\"job_id\":\"" + jobId + "\",\"events\":["));
    for (int i = 0; i < entries.size(); i++) {
      if (i > 0) {
        body.write(',');
      }
      body.writeBytes(context.encodings().json(entries.get(i), false));
    }
    body.writeBytes(HttpRouter.utf8("]}"));
    HttpResponses.json(call.target(), HttpResponseStatus.OK, body.toByteArray());
  }

  private void deleteJob(Call call, Principal caller, String jobId) {
    requirePublisher(caller);
    if (!context.hub().delete(jobId)) {
      throw HubException.jobNotFound(jobId);
    }
    HttpResponses.empty(call.target(), HttpResponseStatus.NO_CONTENT);
  }

  /**
   * Publishes many events in one request: {@code {"events": [{"job_id": ..., ...}, ...]}}. Each is
   * applied independently; the answer lists a result per event, in order. The events share group
   * commits in the store, so this is the fast path for busy producers.
   */
  private void batch(Call call, Principal caller) {
    requirePublisher(caller);
    ObjectNode body = json.object(requireJson(call));
    JobJson.rejectUnknown(body, java.util.Set.of("events"));
    JsonNode events = body.get("events");
    if (events == null || !events.isArray()) {
      throw HubException.invalid("events: expected an array of events");
    }
    if (events.isEmpty() || events.size() > MAX_BATCH) {
      throw HubException.invalid(
          "events: " + events.size() + " entries (expected: 1-" + MAX_BATCH + ")");
    }
    requireWithinPublishRate(caller, events.size());
    List<CompletableFuture<Job>> pending = new ArrayList<>(events.size());
    List<String> jobIds = new ArrayList<>(events.size());
    for (JsonNode event : events) {
      String jobId = null;
      try {
        if (!(event instanceof ObjectNode object)) {
          throw HubException.invalid("each event must be a JSON object");
        }
        jobId =
            JobJson.text(object, "job_id")
                .orElseThrow(() -> HubException.invalid("missing field: job_id"));
        ObjectNode fields = object.deepCopy();
        fields.remove("job_id");
        pending.add(context.hub().publishAsync(jobId, json.update(fields)));
      } catch (HubException e) {
        pending.add(CompletableFuture.failedFuture(e));
      }
      jobIds.add(jobId);
    }
    ObjectNode answer = json.objectNode();
    ArrayNode results = answer.putArray("results");
    int accepted = 0;
    for (int i = 0; i < pending.size(); i++) {
      ObjectNode result = results.addObject();
      result.put("job_id", jobIds.get(i));
      try {
        Job job = pending.get(i).join();
        result.put("ok", true);
        result.put("seq", job.seq());
        result.put("status", job.status().wireName());
        accepted++;
      } catch (CompletionException e) {
        HubException failure =
            e.getCause() instanceof HubException hub
                ? hub
                : HubException.unavailable("store failed", e.getCause());
        result.put("ok", false);
        result.put("code", WireErrors.errorCode(failure.reason()).wireName());
        result.put("error", failure.getMessage());
      }
    }
    answer.put("accepted", accepted);
    answer.put("rejected", pending.size() - accepted);
    ok(call, answer);
  }

  private void stats(Call call) {
    HubStats stats = context.hub().stats();
    ObjectNode body = json.objectNode();
    ObjectNode jobs = body.putObject("jobs");
    long total = 0;
    for (JobStatus status : JobStatus.values()) {
      long count = stats.jobsByStatus().getOrDefault(status, 0L);
      jobs.put(status.wireName(), count);
      total += count;
    }
    jobs.put("total", total);
    ObjectNode connections = body.putObject("connections");
    connections.put("open", context.limiter().total());
    connections.put("subscriptions", stats.subscriptions());
    connections.put("watched_jobs", stats.watchedJobs());
    ok(call, body);
  }

  // ------------------------------------------------------------------ helpers

  private Principal authenticate(Call call) {
    return context
        .authenticator()
        .authenticate(call.token())
        .orElseThrow(
            () ->
                HubException.unauthorized(
                    "missing bearer token (Authorization: Bearer <token> or ?token=)"));
  }

  private Job watchable(Principal caller, String jobId) {
    return JobAccess.watchable(context.hub(), caller, jobId);
  }

  /**
   * Takes {@code events} from the caller's publish allowance, or refuses with 429 and {@code
   * Retry-After}: one runaway producer must not fill the store's queue for all.
   */
  private void requireWithinPublishRate(Principal caller, int events) {
    long wait = context.limiter().tryPublish(caller.subject(), events);
    if (wait > 0) {
      throw new HubException(
          HubException.Code.RATE_LIMITED,
          "too many events from "
              + JobJson.abbreviate(caller.subject())
              + " (expected: at most "
              + context.config().limits().publishRate()
              + ")",
          null,
          Duration.ofNanos(wait));
    }
  }

  private static void requirePublisher(Principal caller) {
    if (!caller.canPublish()) {
      throw HubException.forbidden("this needs the publisher or admin role");
    }
  }

  private static void requireAdmin(Principal caller) {
    if (!caller.isAdmin()) {
      throw HubException.forbidden("this needs the admin role");
    }
  }

  private static void requireMethod(Call call, HttpMethod method) {
    if (!call.method().equals(method)) {
      throw methodNotAllowed(method.name());
    }
  }

  private static byte[] requireJson(Call call) {
    if (!call.isJson()) {
      throw new ApiException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    return call.body();
  }

  private void ok(Call call, JsonNode body) {
    HttpResponses.json(call.target(), HttpResponseStatus.OK, json.bytes(body));
  }

  private static Optional<String> param(Call call, String name) {
    List<String> values = call.query().parameters().get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  private static int intParam(Call call, String name, int fallback) {
    long value = longParam(call, name, fallback);
    if (value > Integer.MAX_VALUE) {
      throw HubException.invalid(name + ": " + value + " (expected: a smaller number)");
    }
    return (int) value;
  }

  private static long longParam(Call call, String name, long fallback) {
    Optional<String> raw = param(call, name);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw.get());
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw HubException.invalid(
          name + ": '" + JobJson.abbreviate(raw.get()) + "' (expected: a whole number >= 0)");
    }
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty()) {
        segments.add(part);
      }
    }
    return segments;
  }

  private static ApiException notFound() {
    return new ApiException(ErrorCode.NOT_FOUND, "no such endpoint");
  }

  private static ApiException methodNotAllowed(String allowed) {
    return new ApiException(
        ErrorCode.METHOD_NOT_ALLOWED, "method not allowed (expected: " + allowed + ")");
  }
}
