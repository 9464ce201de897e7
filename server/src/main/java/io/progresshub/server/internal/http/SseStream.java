package io.progresshub.server.internal.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.Principal;
import io.progresshub.core.Subscriber;
import io.progresshub.core.Subscription;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.internal.ConnectionLimiter;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.Outbox;
import io.progresshub.server.internal.RequestTimeoutHandler;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.Shutdown;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/jobs/{id}/stream}: one job's states as Server-Sent Events. The SSE {@code id} is
 * the {@code seq}, so a browser's automatic reconnect ({@code Last-Event-ID}) resumes exactly. The
 * stream ends after the terminal state; a reconnect after that gets 204, which tells {@code
 * EventSource} to stop.
 */
public final class SseStream {
  private static final byte[] PREAMBLE = "retry: 3000\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEARTBEAT = ": heartbeat\n\n".getBytes(StandardCharsets.US_ASCII);

  private final ServerContext context;

  SseStream(ServerContext context) {
    this.context = context;
  }

  /**
   * Runs on a blocking thread: the caller may already watch {@code job}. The stream lives no longer
   * than {@code token}: at its expiry the client gets an {@code unauthorized} error event and the
   * stream ends.
   */
  void start(
      HttpResponses.Target target,
      Principal caller,
      Job job,
      Optional<String> lastEventId,
      QueryStringDecoder query,
      Optional<String> token) {
    OptionalLong since = since(lastEventId, query);
    if (since.isPresent() && job.isTerminal() && since.getAsLong() >= job.seq()) {
      HttpResponses.empty(target, HttpResponseStatus.NO_CONTENT);
      return;
    }
    ConnectionLimiter limiter = context.limiter();
    if (!limiter.tryAcquireTotal()) {
      HttpResponses.error(target, ErrorCode.TOO_MANY_CONNECTIONS, "too many open connections");
      return;
    }
    if (!limiter.tryAcquireUser(caller.subject())) {
      limiter.releaseTotal();
      HttpResponses.error(
          target, ErrorCode.TOO_MANY_CONNECTIONS, "too many connections for this user");
      return;
    }
    Channel channel = target.ctx().channel();
    channel
        .closeFuture()
        .addListener(
            closed -> {
              limiter.releaseTotal();
              limiter.releaseUser(caller.subject());
            });
    Outbox outbox =
        Outbox.sse(
            channel,
            context.config().limits(),
            channel::close,
            context.writes().of(channel.eventLoop()));
    Optional<Instant> expiry =
        context.authenticator().enabled()
            ? token.flatMap(context.authenticator()::expiry)
            : Optional.empty();
    // The headers are written before anything can be sent: the subscription starts only once this
    // task has run, so no event can reach the socket ahead of them (HTTP would fail the stream).
    channel.eventLoop().submit(() -> open(channel, target, outbox, expiry)).awaitUninterruptibly();
    if (!channel.isActive()) {
      return;
    }
    Subscription subscription;
    try {
      subscription =
          context.hub().subscribe(job.id(), since, new SseSubscriber(channel, outbox, since));
    } catch (HubException e) {
      end(channel);
      return;
    }
    channel.closeFuture().addListener(closed -> subscription.close());
  }

  /** On the event loop: the response headers, the preamble, the heartbeat and the token's end. */
  private void open(
      Channel channel, HttpResponses.Target target, Outbox outbox, Optional<Instant> expiry) {
    if (!channel.isActive()) {
      return;
    }
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(RequestTimeoutHandler.class) != null) {
      pipeline.remove(RequestTimeoutHandler.class);
    }
    pipeline.addFirst("sse-stream", new StreamHandler(outbox));
    // RestApi paused reading for this request; keep reading to see the client leave.
    channel.config().setAutoRead(true);
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    response.headers().set("X-Accel-Buffering", "no");
    if (target.corsOrigin() != null) {
      response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, target.corsOrigin());
      response.headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    }
    channel.write(response);
    channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(PREAMBLE)));
    context.channels().add(channel);
    channel.attr(Shutdown.KEY).set(() -> end(outbox));
    long every = context.config().webSocket().heartbeatInterval().toMillis();
    ScheduledFuture<?> heartbeat =
        channel
            .eventLoop()
            .scheduleAtFixedRate(() -> outbox.send(HEARTBEAT), every, every, TimeUnit.MILLISECONDS);
    ScheduledFuture<?> tokenEnd =
        expiry
            .map(
                at ->
                    channel
                        .eventLoop()
                        .schedule(
                            () -> {
                              outbox.send(errorEvent(ErrorCode.UNAUTHORIZED, "token expired"));
                              end(outbox);
                            },
                            Math.max(0, at.toEpochMilli() - System.currentTimeMillis()),
                            TimeUnit.MILLISECONDS))
            .orElse(null);
    channel
        .closeFuture()
        .addListener(
            closed -> {
              heartbeat.cancel(false);
              if (tokenEnd != null) {
                tokenEnd.cancel(false);
              }
              outbox.discard();
            });
  }

  private static byte[] errorEvent(ErrorCode code, String message) {
    return ("event: error\ndata: "
            + new String(HttpResponses.errorBody(code, message), StandardCharsets.UTF_8)
            + "\n\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * First in a stream's pipeline: whatever the client sends now is dropped (a stream answers no
   * further requests), and a client that does not read is not read from either; the outbox closes
   * it once it has stalled.
   */
  private static final class StreamHandler extends ChannelInboundHandlerAdapter {
    private final Outbox outbox;

    StreamHandler(Outbox outbox) {
      this.outbox = outbox;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      ReferenceCountUtil.release(message);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      outbox.writabilityChanged();
      ctx.channel().config().setAutoRead(ctx.channel().isWritable());
      ctx.fireChannelWritabilityChanged();
    }
  }

  private static OptionalLong since(Optional<String> lastEventId, QueryStringDecoder query) {
    Optional<String> raw = lastEventId;
    if (raw.isEmpty()) {
      for (String name : List.of("since", "lastEventId")) {
        List<String> values = query.parameters().get(name);
        if (values != null && !values.isEmpty()) {
          raw = Optional.of(values.get(0));
          break;
        }
      }
    }
    if (raw.isEmpty() || raw.get().isBlank()) {
      return OptionalLong.empty();
    }
    try {
      long value = Long.parseLong(raw.get().trim());
      if (value < 0) {
        throw new NumberFormatException();
      }
      return OptionalLong.of(value);
    } catch (NumberFormatException e) {
      throw HubException.invalid(
          "Last-Event-ID: '" + JobJson.abbreviate(raw.get()) + "' (expected: a seq >= 0)");
    }
  }

  /** Ends the stream after everything already queued. */
  private static void end(Outbox outbox) {
    outbox.close(LastHttpContent.EMPTY_LAST_CONTENT, true);
  }

  private static void end(Channel channel) {
    channel
        .eventLoop()
        .execute(
            () -> {
              if (channel.isActive()) {
                channel
                    .writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                    .addListener(ChannelFutureListener.CLOSE);
              }
            });
  }

  private final class SseSubscriber implements Subscriber {
    private final Channel channel;
    private final Outbox outbox;
    private final OptionalLong since;

    /** States the client already has; the hub calls us under the subscription's lock. */
    private long alreadySeen;

    SseSubscriber(Channel channel, Outbox outbox, OptionalLong since) {
      this.channel = channel;
      this.outbox = outbox;
      this.since = since;
    }

    @Override
    public void onSubscribed(Job current, boolean recovered) {
      // The hub always sends the current state, but a browser resuming at exactly that seq has
      // it, and EventSource does not de-duplicate. A client ahead of the store still gets it.
      if (since.isPresent() && since.getAsLong() <= current.seq()) {
        alreadySeen = since.getAsLong();
      }
    }

    @Override
    public void onJob(Job job, boolean replay, boolean transition) {
      if (job.seq() <= alreadySeen) {
        return;
      }
      outbox.send(
          job.id(), !replay && !transition, Unpooled.wrappedBuffer(context.frames().sseEvent(job)));
      if (job.isTerminal()) {
        end(outbox);
      }
    }

    @Override
    public boolean awaitReplayDemand() {
      if (outbox.awaitDrained()) {
        return true;
      }
      channel.close(); // the replay is abandoned: EventSource reconnects with Last-Event-ID
      return false;
    }

    @Override
    public void onRemoved(String jobId) {
      outbox.send(errorEvent(ErrorCode.JOB_NOT_FOUND, "job was deleted: " + jobId));
      end(outbox);
    }
  }
}
