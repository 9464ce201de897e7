package io.progresshub.server.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
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
import io.progresshub.core.Role;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.RetryHint;
import io.progresshub.server.internal.AccessLog;
import io.progresshub.server.internal.Connection;
import io.progresshub.server.internal.ConnectionLimiter;
import io.progresshub.server.internal.Connections;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.JobSubscriptions;
import io.progresshub.server.internal.Outbox;
import io.progresshub.server.internal.QueryParams;
import io.progresshub.server.internal.RequestTimeoutHandler;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.Text;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
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
  public void start(
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
      context.meters().connectionRefused(ServerMeters.ConnectionLimit.MAX_CONNECTIONS);
      HttpResponses.error(target, ErrorCode.TOO_MANY_CONNECTIONS, "too many open connections");
      return;
    }
    if (!limiter.tryAcquireUser(caller.subject())) {
      context.meters().connectionRefused(ServerMeters.ConnectionLimit.PER_USER);
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
    Optional<Instant> expiry =
        context.authenticator().enabled()
            ? token.flatMap(context.authenticator()::expiry)
            : Optional.empty();
    // The subscription starts on the event loop. The response head waits in the outbox for the
    // first message, which is sent once the hub has registered the subscription: a client that
    // has the head misses nothing published after it.
    channel
        .eventLoop()
        .execute(
            () -> {
              if (channel.isActive()) {
                new Stream(context, channel, target, caller, job.id())
                    .open(expiry)
                    .subscribe(caller, job.id(), since, Optional.empty());
              }
            });
  }

  private static byte[] errorEvent(ErrorCode code, String message) {
    return sseEvent("error", HttpResponses.errorBody(code, message));
  }

  /** One named event; {@code json} has no line breaks (Jackson writes none). */
  private static byte[] sseEvent(String name, byte[] json) {
    return ("event: " + name + "\ndata: " + new String(json, StandardCharsets.UTF_8) + "\n\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Where to resume: {@code Last-Event-ID}, else {@code since} or {@code lastEventId}. */
  private static OptionalLong since(Optional<String> lastEventId, QueryStringDecoder query) {
    QueryParams params = QueryParams.of(query);
    Optional<String> raw =
        lastEventId.or(() -> params.get("since")).or(() -> params.get("lastEventId"));
    if (raw.isEmpty() || raw.get().isBlank()) {
      return OptionalLong.empty();
    }
    OptionalLong since = QueryParams.parseNonNegative(raw.get().trim());
    if (since.isEmpty()) {
      throw HubException.invalid(
          "Last-Event-ID: '" + Text.abbreviate(raw.get()) + "' (expected: a seq >= 0)");
    }
    return since;
  }

  /**
   * One open stream: first in its pipeline, so whatever the client sends now is dropped (a stream
   * answers no further requests), and a client that does not read is not read from either (the
   * outbox closes it once it has stalled). Its one subscription is a {@link JobSubscriptions} table
   * like a WebSocket's, with SSE events for messages; it ends after the terminal state.
   */
  private static final class Stream extends ChannelInboundHandlerAdapter
      implements Connection, JobSubscriptions.Wire {
    private final ServerContext context;
    private final Channel channel;
    private final Outbox outbox;
    private final JobSubscriptions subscriptions;
    private final Principal caller;
    private final String jobId;
    private final long id = Connections.newId();
    private final Instant openedAt = Instant.now();

    Stream(
        ServerContext context,
        Channel channel,
        HttpResponses.Target target,
        Principal caller,
        String jobId) {
      this.context = context;
      this.channel = channel;
      this.caller = caller;
      this.jobId = jobId;
      this.outbox =
          Outbox.sse(
              channel,
              context.config().limits(),
              () -> {
                AccessLog.ending(channel, -1, "slow consumer");
                channel.close();
              },
              context.writes().of(channel.eventLoop()),
              responseHead(target));
      this.subscriptions = new JobSubscriptions(context, this);
    }

    private static HttpResponse responseHead(HttpResponses.Target target) {
      HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
      response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      response.headers().set("X-Accel-Buffering", "no");
      HttpResponses.allowOrigin(response.headers(), target.corsOrigin());
      return response;
    }

    /** On the event loop: the stream's handler, its heartbeat and the token's end. */
    JobSubscriptions open(Optional<Instant> expiry) {
      ChannelPipeline pipeline = channel.pipeline();
      RequestTimeoutHandler.removeFrom(pipeline);
      pipeline.addFirst("sse-stream", this);
      // RestApi paused reading for this request; keep reading to see the client leave.
      channel.config().setAutoRead(true);
      context.connections().add(this);
      context.accessLog().opened(this, Optional.of(caller.subject()));
      long every = context.config().webSocket().heartbeatInterval().toMillis();
      ScheduledFuture<?> heartbeat =
          channel
              .eventLoop()
              .scheduleAtFixedRate(
                  () -> outbox.send(HEARTBEAT), every, every, TimeUnit.MILLISECONDS);
      ScheduledFuture<?> tokenEnd =
          expiry
              .map(
                  at ->
                      channel
                          .eventLoop()
                          .schedule(
                              () -> fail(ErrorCode.UNAUTHORIZED, "token expired"),
                              Math.max(0, at.toEpochMilli() - System.currentTimeMillis()),
                              TimeUnit.MILLISECONDS))
              .orElse(null);
      channel
          .closeFuture()
          .addListener(
              closed -> {
                context.connections().remove(this);
                context.accessLog().closed(this, outbox.written(), Optional.of(caller.subject()));
                heartbeat.cancel(false);
                if (tokenEnd != null) {
                  tokenEnd.cancel(false);
                }
                outbox.discard();
                subscriptions.closeAll(); // listeners run on the event loop
              });
      return subscriptions;
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

    /** Ends the stream after everything already queued. */
    private void end() {
      outbox.close(LastHttpContent.EMPTY_LAST_CONTENT, true);
    }

    private void fail(ErrorCode code, String message) {
      AccessLog.ending(channel, -1, code.wireName());
      outbox.send(errorEvent(code, message));
      end();
    }

    // The subscription's messages as SSE: the event id is the seq.

    /** The stream's first bytes (behind the response head): the reconnect delay. */
    @Override
    public byte[] subscribed(
        String jobId, String status, long seq, boolean recovered, Optional<String> requestId) {
      return PREAMBLE;
    }

    @Override
    public ByteBuf state(Job job, boolean replay) {
      return Unpooled.wrappedBuffer(context.encodings().sseEvent(job));
    }

    @Override
    public void afterState(Job job) {
      if (job.isTerminal()) {
        AccessLog.ending(channel, -1, "job finished");
        end();
      }
    }

    @Override
    public void unsubscribed(String jobId, String status, long seq, Optional<String> requestId) {
      // a stream is never unsubscribed: it ends
    }

    @Override
    public void subscribeFailed(
        String jobId, ErrorCode code, String message, Optional<String> requestId) {
      fail(code, message);
    }

    @Override
    public void refused(ErrorCode code, String message, Optional<String> requestId) {
      fail(code, message);
    }

    @Override
    public void removed(String jobId, String status, long seq) {
      fail(ErrorCode.JOB_NOT_FOUND, "job was deleted: " + jobId);
    }

    @Override
    public void replayAbandoned() {
      context.meters().replayAbandoned();
      AccessLog.ending(channel, -1, "slow consumer: replay abandoned");
      channel.close(); // EventSource reconnects with Last-Event-ID
    }

    @Override
    public boolean accepting() {
      return channel.isActive();
    }

    // The stream as the registry sees it.

    @Override
    public String id() {
      return Connections.format(id);
    }

    @Override
    public Transport transport() {
      return Transport.SSE;
    }

    @Override
    public Outbox outbox() {
      return outbox;
    }

    @Override
    public Channel channel() {
      return channel;
    }

    @Override
    public Instant openedAt() {
      return openedAt;
    }

    @Override
    public Optional<String> user() {
      return Optional.of(caller.subject());
    }

    @Override
    public Optional<Role> role() {
      return Optional.of(caller.role());
    }

    @Override
    public void disconnect(String reason) {
      channel
          .eventLoop()
          .execute(() -> fail(ErrorCode.FORBIDDEN, "disconnected by an administrator: " + reason));
    }

    /**
     * As an SSE {@code broadcast} event, without an {@code id:}: it is not a state to resume from.
     */
    @Override
    public boolean broadcast(String jobId, byte[] message) {
      if (!this.jobId.equals(jobId)) {
        return false;
      }
      outbox.send(sseEvent("broadcast", message));
      return true;
    }

    @Override
    public Set<String> watching() {
      return Set.of(jobId);
    }

    /** {@code retry:} tells EventSource how long to wait before it reconnects. */
    @Override
    public void goAway(Duration retryAfter) {
      AccessLog.ending(channel, -1, RetryHint.shutdownReason(retryAfter.toMillis()));
      outbox.send(("retry: " + retryAfter.toMillis() + "\n\n").getBytes(StandardCharsets.US_ASCII));
      end();
    }
  }
}
