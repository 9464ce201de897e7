package io.progresshub.server.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.progresshub.protocol.ErrorBody;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.RestCodec;
import io.progresshub.server.internal.http.RestApi;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Writes HTTP responses: JSON bodies, the error shape {@code {"error", "code"}}, keep-alive. */
public final class HttpResponses {
  private HttpResponses() {}

  /**
   * Where a response goes and how the connection continues after it.
   *
   * @param resumesReading the request paused reading on its connection (see {@link
   *     RestApi#handle}); answering it resumes reading
   */
  public record Target(
      ChannelHandlerContext ctx, boolean keepAlive, String corsOrigin, boolean resumesReading) {

    public Target(ChannelHandlerContext ctx, boolean keepAlive, String corsOrigin) {
      this(ctx, keepAlive, corsOrigin, false);
    }

    /** This target, for a request that stopped reading on its connection until answered. */
    public Target pausingReads() {
      return new Target(ctx, keepAlive, corsOrigin, true);
    }
  }

  public static void json(Target target, HttpResponseStatus status, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    send(target, response);
  }

  public static void empty(Target target, HttpResponseStatus status) {
    send(target, new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER));
  }

  public static void text(
      Target target, HttpResponseStatus status, String contentType, String body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    send(target, response);
  }

  /**
   * A file: its body with {@code headers}, which name its type and say how it may be cached (the
   * API's {@code no-store} applies only when they do not).
   */
  public static void file(
      Target target, HttpResponseStatus status, HttpHeaders headers, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    response.headers().add(headers);
    send(target, response);
  }

  public static void error(Target target, ErrorCode code, String message) {
    error(target, new WireErrors.WireError(code, message, Optional.empty()));
  }

  public static void error(Target target, WireErrors.WireError error) {
    error(target, error, EmptyHttpHeaders.INSTANCE);
  }

  /** An error answer with {@code headers} besides its own (such as {@code Allow}). */
  public static void error(Target target, WireErrors.WireError error, HttpHeaders headers) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(error.code().httpStatus()),
            Unpooled.wrappedBuffer(errorBody(error.code(), error.message())));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    response.headers().add(headers);
    // A full store queue, a locked database or a rate passes soon: say when to come back, in whole
    // seconds (RFC 9110), rounded up so that a client never retries too early.
    error
        .retryAfter()
        .ifPresent(
            wait -> {
              long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
              response.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(seconds));
            });
    send(target, response);
  }

  public static byte[] errorBody(ErrorCode code, String message) {
    return RestCodec.encode(new ErrorBody(message, code));
  }

  /**
   * The CORS headers of every answer to a page from an allowed origin (none for other callers):
   * which origin may read it, and that the answer depends on the origin, for caches.
   */
  public static void allowOrigin(HttpHeaders headers, String corsOrigin) {
    if (corsOrigin != null) {
      headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, corsOrigin);
      headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    }
  }

  private static void send(Target target, FullHttpResponse response) {
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    if (!response.headers().contains(HttpHeaderNames.CACHE_CONTROL)) {
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    }
    allowOrigin(response.headers(), target.corsOrigin());
    if (target.keepAlive()) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ChannelFuture written = target.ctx().writeAndFlush(response);
      if (target.resumesReading()) {
        // Once written (not before: this may be another thread), the connection may deliver its
        // next request.
        written.addListener(done -> target.ctx().channel().config().setAutoRead(true));
      }
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      target.ctx().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
