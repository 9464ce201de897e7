package io.progresshub.server.internal.http;

import static io.netty.handler.codec.http.HttpMethod.DELETE;
import static io.netty.handler.codec.http.HttpMethod.GET;
import static io.netty.handler.codec.http.HttpMethod.POST;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.core.HubException;
import io.progresshub.core.JobIds;
import io.progresshub.core.Principal;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.RestCodec;
import io.progresshub.server.auth.Authenticator;
import io.progresshub.server.internal.AccessLogHandler;
import io.progresshub.server.internal.ApiException;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.WireErrors;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API of docs/api.md: the table of its routes, and the life of one request through them. A
 * request is matched on the event loop, then served on a virtual thread because it may wait for the
 * store: authenticated, its path parameters checked, handed to its resource, and the resource's
 * reply or error written.
 */
public final class RestApi {
  private static final Logger LOG = LoggerFactory.getLogger(RestApi.class);

  /** RFC 6750's challenge: the scheme a 401 asks for, and whose tokens. */
  private static final String CHALLENGE = "Bearer realm=\"progress-hub\"";

  private final ServerContext context;
  private final Routes routes;

  public RestApi(ServerContext context) {
    this.context = context;
    Permissions permissions = new Permissions(context);
    JobsResource jobs = new JobsResource(context, context.json(), permissions);
    EventsResource events =
        new EventsResource(context, context.json(), permissions, new SseStream(context));
    StatsResource stats = new StatsResource(context);
    HealthResource health = new HealthResource(context.readiness());
    ConnectionsResource connections =
        new ConnectionsResource(
            context, context.json(), context.encodings().codec(), Clock.systemUTC());
    Routes.Builder table =
        Routes.builder()
            .param("id", JobIds::check)
            .route(GET, "/api/jobs", jobs::list)
            .route(POST, "/api/jobs", jobs::create)
            .route(GET, "/api/jobs/{id}", jobs::get)
            .route(DELETE, "/api/jobs/{id}", jobs::delete)
            .route(POST, "/api/jobs/{id}/cancel", jobs::cancel)
            .route(GET, "/api/jobs/{id}/events", events::history)
            .route(POST, "/api/jobs/{id}/events", events::publish)
            .stream("/api/jobs/{id}/stream", events::stream)
            .route(POST, "/api/events/batch", events::batch)
            .route(POST, "/api/jobs/{id}/broadcast", connections::broadcast)
            .route(GET, "/api/stats", stats::get)
            .route(GET, "/api/connections", connections::list)
            .route(DELETE, "/api/connections/{connection}", connections::disconnect)
            .route(DELETE, "/api/users/{user}/connections", connections::disconnectUser)
            .open(GET, "/health", health::get)
            .open(GET, "/ready", health::ready);
    if (context.meters().scrapable()) {
      table.anyCaller(GET, "/metrics", new MetricsResource(context)::scrape);
    }
    this.routes = table.build();
  }

  /** One request, detached from Netty's reference-counted buffers. */
  private record Call(
      HttpMethod method,
      String path,
      Routes.Match match,
      QueryStringDecoder uri,
      byte[] body,
      boolean isJson,
      Optional<String> token,
      Optional<String> lastEventId,
      HttpHeaders headers) {}

  public void handle(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      QueryStringDecoder query,
      HttpResponses.Target connection) {
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    Call call =
        new Call(
            request.method(),
            query.path(),
            routes.match(request.method(), Routes.segments(query.path())),
            query,
            ByteBufUtil.getBytes(request.content()),
            contentType == null
                || contentType.toLowerCase(Locale.ROOT).startsWith("application/json"),
            Authenticator.token(request, query),
            Optional.ofNullable(request.headers().get("Last-Event-ID")),
            request.headers());
    if (call.match().open()) {
      serve(call, connection); // needs neither a token nor the store: answered on the loop
      return;
    }
    // HTTP/1.1 answers must follow request order, and this one is answered from another thread:
    // read no further request on this connection until it is (HttpResponses turns reading on).
    ctx.channel().config().setAutoRead(false);
    HttpResponses.Target paused = connection.pausingReads();
    try {
      context.blocking().execute(() -> serve(call, paused));
    } catch (RejectedExecutionException shuttingDown) {
      HttpResponses.error(paused, ErrorCode.SHUTTING_DOWN, "server is shutting down");
    }
  }

  private void serve(Call call, HttpResponses.Target target) {
    try {
      Routes.Match match = call.match();
      Optional<Principal> caller = caller(call);
      caller.ifPresent(known -> AccessLogHandler.identify(target.ctx().channel(), known.subject()));
      Map<String, String> params = routes.checked(match);
      if (match.allowed().isEmpty()) {
        throw new ApiException(ErrorCode.NOT_FOUND, "no such endpoint");
      }
      if (match.route().isEmpty()) {
        methodNotAllowed(target, match.allowed());
        return;
      }
      RestRequest request =
          new RestRequest(
              caller,
              params,
              call.uri(),
              call.body(),
              call.isJson(),
              call.token(),
              call.lastEventId(),
              call.headers(),
              target);
      write(target, match.route().get().handler().handle(request));
    } catch (HubException e) {
      fail(target, WireErrors.of(e), call);
    } catch (ApiException e) {
      fail(target, WireErrors.of(e), call);
    } catch (RuntimeException e) {
      LOG.error("request failed: {} {}", call.method(), call.path(), e);
      HttpResponses.error(target, ErrorCode.INTERNAL_ERROR, "internal error");
    }
  }

  /** Who calls: nobody on an open row or an any-caller row without a token, else the token's. */
  private Optional<Principal> caller(Call call) {
    Routes.Match match = call.match();
    if (match.open()) {
      return Optional.empty();
    }
    boolean anyCaller = match.route().map(Routes.Route::anyCaller).orElse(false);
    if (anyCaller && call.token().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(authenticate(call));
  }

  private Principal authenticate(Call call) {
    return context
        .authenticator()
        .authenticate(call.token())
        .orElseThrow(
            () ->
                HubException.unauthorized(
                    "missing bearer token (Authorization: Bearer <token> or ?token=)"));
  }

  private static void write(HttpResponses.Target target, Reply reply) {
    switch (reply) {
      case Reply.WithBody answer ->
          HttpResponses.json(target, answer.status(), RestCodec.encode(answer.body()));
      case Reply.Empty empty -> HttpResponses.empty(target, empty.status());
      case Reply.Sent sent -> {
        // the handler has answered
      }
    }
  }

  /** 405, with the path's methods in {@code Allow} (RFC 9110) and in the message. */
  private static void methodNotAllowed(HttpResponses.Target target, List<HttpMethod> allowed) {
    String methods = allowed.stream().map(HttpMethod::name).collect(Collectors.joining(", "));
    HttpResponses.error(
        target,
        new WireErrors.WireError(
            ErrorCode.METHOD_NOT_ALLOWED,
            "method not allowed (expected: " + methods + ")",
            Optional.empty()),
        new DefaultHttpHeaders().set(HttpHeaderNames.ALLOW, methods));
  }

  /**
   * An error answer; a 401 says how to authenticate (RFC 6750), and that the token given was
   * refused when there was one.
   */
  private static void fail(HttpResponses.Target target, WireErrors.WireError error, Call call) {
    HttpHeaders headers = EmptyHttpHeaders.INSTANCE;
    if (error.code() == ErrorCode.UNAUTHORIZED) {
      String challenge =
          call.token().isPresent() ? CHALLENGE + ", error=\"invalid_token\"" : CHALLENGE;
      headers = new DefaultHttpHeaders().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
    }
    HttpResponses.error(target, error, headers);
  }
}
