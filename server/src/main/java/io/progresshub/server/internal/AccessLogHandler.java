package io.progresshub.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.Optional;

/**
 * Writes the access log's line for each HTTP request of one connection, when its answer's head goes
 * out. Sits right behind the HTTP codec, so it sees every request and every answer, the
 * aggregator's 413 included; answers leave in request order (HTTP/1.1), so each belongs to the
 * oldest request not yet answered. Upgraded connections drop it with the other HTTP handlers.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {
  /** Its name in the pipeline. */
  public static final String NAME = "access-log";

  private record Pending(String method, String uri, long startNanos) {}

  private final AccessLog log;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>(2);

  /** The caller of the request being answered, set from the thread that serves it. */
  private volatile String user;

  public AccessLogHandler(AccessLog log) {
    this.log = log;
  }

  /**
   * Names the authenticated caller of the request {@code channel} is serving now, for its line.
   * Called before the answer is written.
   */
  public static void identify(Channel channel, String subject) {
    AccessLogHandler handler = channel.pipeline().get(AccessLogHandler.class);
    if (handler != null) {
      handler.user = subject;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (message instanceof HttpRequest request) {
      pending.add(new Pending(request.method().name(), request.uri(), System.nanoTime()));
    }
    ctx.fireChannelRead(message);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
    if (message instanceof HttpResponse response && response.status().code() >= 200) {
      Pending request = pending.poll();
      String caller = user;
      user = null;
      if (request != null) {
        long bytes = message instanceof FullHttpResponse full ? full.content().readableBytes() : -1;
        log.request(
            request.method(),
            request.uri(),
            response.status().code(),
            bytes,
            System.nanoTime() - request.startNanos(),
            ctx.channel().remoteAddress(),
            Optional.ofNullable(caller));
      }
    }
    ctx.write(message, promise);
  }
}
