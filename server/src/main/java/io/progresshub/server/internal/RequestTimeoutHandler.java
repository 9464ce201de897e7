package io.progresshub.server.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes HTTP connections that do not finish a request in time (slowloris) or sit idle between
 * keep-alive requests. Removed once a connection becomes a WebSocket or an SSE stream.
 */
public final class RequestTimeoutHandler extends ChannelDuplexHandler {

  /**
   * Takes the handler out of {@code pipeline}, if it is there: the connection is long-lived now.
   */
  public static void removeFrom(ChannelPipeline pipeline) {
    if (pipeline.get(RequestTimeoutHandler.class) != null) {
      pipeline.remove(RequestTimeoutHandler.class);
    }
  }

  public static final Object REQUEST_RECEIVED = new Object();

  private final long requestTimeoutMillis;
  private final long idleTimeoutMillis;
  private ScheduledFuture<?> deadline;

  public RequestTimeoutHandler(Duration requestTimeout, Duration idleTimeout) {
    this.requestTimeoutMillis = requestTimeout.toMillis();
    this.idleTimeoutMillis = idleTimeout.toMillis();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    arm(ctx, requestTimeoutMillis);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    // The first bytes of a new request: it must be complete within the request timeout.
    if (deadline != null && deadline.getDelay(TimeUnit.MILLISECONDS) > requestTimeoutMillis) {
      arm(ctx, requestTimeoutMillis);
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == REQUEST_RECEIVED) {
      arm(ctx, idleTimeoutMillis);
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancel();
    super.channelInactive(ctx);
  }

  private void arm(ChannelHandlerContext ctx, long millis) {
    cancel();
    deadline = ctx.executor().schedule(() -> ctx.channel().close(), millis, TimeUnit.MILLISECONDS);
  }

  private void cancel() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }
}
