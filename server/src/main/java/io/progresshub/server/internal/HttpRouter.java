package io.progresshub.server.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.internal.dashboard.Dashboard;
import io.progresshub.server.internal.http.RestApi;
import io.progresshub.server.internal.metrics.ServerMeters;
import io.progresshub.server.internal.websocket.WebSocketUpgrade;
import java.util.Optional;

/**
 * The first stop of every HTTP request: checks the origin, then hands WebSocket upgrades to {@link
 * WebSocketUpgrade}, the dashboard's page and files to {@link Dashboard}, and everything else to
 * {@link RestApi}.
 */
@ChannelHandler.Sharable
public final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final ServerContext context;
  private final RefusedOrigins refusedOrigins = new RefusedOrigins();
  private final RestApi rest;
  private final WebSocketUpgrade webSockets;
  private final Dashboard dashboard = Dashboard.fromClasspath();

  public HttpRouter(ServerContext context) {
    this.context = context;
    this.rest = new RestApi(context);
    this.webSockets = new WebSocketUpgrade(context);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    ctx.pipeline().fireUserEventTriggered(RequestTimeoutHandler.REQUEST_RECEIVED);
    boolean allowedOrigin = context.origins().allows(request);
    String cors = allowedOrigin ? OriginPolicy.origin(request) : null;
    HttpResponses.Target target =
        new HttpResponses.Target(ctx, HttpUtil.isKeepAlive(request) && allowedOrigin, cors);
    if (!request.decoderResult().isSuccess()) {
      HttpResponses.error(
          new HttpResponses.Target(ctx, false, cors),
          ErrorCode.INVALID_REQUEST,
          "malformed HTTP request");
      return;
    }
    if (!allowedOrigin) {
      refusedOrigins.refused(OriginPolicy.origin(request));
      HttpResponses.error(
          target,
          ErrorCode.ORIGIN_NOT_ALLOWED,
          "origin not allowed: " + Text.abbreviate(OriginPolicy.origin(request)));
      return;
    }
    QueryStringDecoder query = new QueryStringDecoder(request.uri());
    Optional<ConnectionLimiter.Refusal> refusal = context.limiter().admit(ctx.channel(), request);
    refusal.ifPresent(this::count);
    if (isWebSocketUpgrade(request)) {
      webSockets.upgrade(ctx, request, query, refusal);
      return;
    }
    if (refusal.isPresent()) {
      HttpResponses.error(
          new HttpResponses.Target(ctx, false, cors), WireErrors.of(refusal.get().asException()));
      return;
    }
    if (request.method().equals(HttpMethod.OPTIONS)) {
      preflight(target);
      return;
    }
    if (dashboard.serves(query.path())) {
      dashboard.handle(request, query.path(), target);
      return;
    }
    rest.handle(ctx, request, query, target);
  }

  /** Admission refusals: the connect rate, or the address's cap behind a trusted proxy. */
  private void count(ConnectionLimiter.Refusal refusal) {
    if (refusal.code() == ErrorCode.RATE_LIMITED) {
      context.meters().rateLimited(ServerMeters.RateLimit.CONNECT_RATE);
    } else {
      context.meters().connectionRefused(ServerMeters.ConnectionLimit.PER_ADDRESS);
    }
  }

  private static boolean isWebSocketUpgrade(FullHttpRequest request) {
    return request.method().equals(HttpMethod.GET)
        && request
            .headers()
            .containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && request.headers().contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  /** CORS preflight for allowed origins: which methods and headers a page may use. */
  private static void preflight(HttpResponses.Target target) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    if (target.corsOrigin() != null) {
      HttpResponses.allowOrigin(response.headers(), target.corsOrigin());
      response
          .headers()
          .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE, OPTIONS");
      response
          .headers()
          .set(
              HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
              "Authorization, Content-Type, Last-Event-ID");
      response.headers().set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
    }
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    target.ctx().writeAndFlush(response);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Bad HTTP from a client: answer if we still can, then drop the connection.
    if (ctx.channel().isActive()) {
      HttpResponses.error(
          new HttpResponses.Target(ctx, false, null), ErrorCode.INVALID_REQUEST, "bad request");
    }
  }
}
