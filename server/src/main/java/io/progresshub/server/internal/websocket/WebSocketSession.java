package io.progresshub.server.internal.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobIds;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.protocol.ClientMessage;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.ProtocolException;
import io.progresshub.protocol.RetryHint;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.server.Rate;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.internal.AccessLog;
import io.progresshub.server.internal.Connection;
import io.progresshub.server.internal.Connections;
import io.progresshub.server.internal.JobAccess;
import io.progresshub.server.internal.JobSubscriptions;
import io.progresshub.server.internal.MonitorFeed;
import io.progresshub.server.internal.Outbox;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.WebSocketFrames;
import io.progresshub.server.internal.WireErrors;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection speaking protocol v1: its Netty lifecycle, authentication and command
 * dispatch. The jobs it watches are a {@link JobSubscriptions} table; everything the client
 * receives goes through one {@link Outbox}, so replies and job states keep their order. Commands
 * are read on the channel's event loop; hub calls that may touch the store run on the blocking
 * executor and report back to the loop.
 */
public final class WebSocketSession extends HeartbeatHandler
    implements Connection, JobSubscriptions.Wire, MonitorFeed.Watcher {
  private static final Logger LOG = LoggerFactory.getLogger(WebSocketSession.class);

  /**
   * Commands refused for the rate, in a row, before the connection is closed with 4429: a client
   * that ignores {@code rate_limited} is not going to slow down.
   */
  public static final int MAX_REFUSED_COMMANDS = 10;

  private final ServerContext context;

  /** How the connection was opened; dropped once the client is authenticated. */
  private WebSocketUpgrade.Handshake handshake;

  /** The job of a single-job endpoint ({@code /ws/{jobId}}), else null. */
  private final String singleJobId;

  /**
   * Opened on {@code /ws/monitor}: an admin's connection that also gets the system stream. It may
   * subscribe to jobs like any other.
   */
  private final boolean monitor;

  /** Whether it joined the system stream (after an admin's authentication). */
  private boolean monitoring;

  private final long id = Connections.newId();
  private final long openedAtMillis = System.currentTimeMillis();

  // Event-loop state.
  private Channel channel;
  private Outbox outbox;
  private JobSubscriptions subscriptions;
  private final SessionAuth auth;
  private boolean closing;
  private long heartbeats;
  private HeartbeatWheel wheel;
  private long lastReadTick;

  /** Not reading: the client does not read what we write (see {@link Outbox}). */
  private boolean pausedForWrites;

  /**
   * The command allowance, a token bucket kept inline (a bucket object would cost a connection more
   * than these two fields): tokens left, -1 before the first command (a full bucket), and when it
   * was last refilled, in wrapping milliseconds.
   */
  private float commandTokens = -1;

  private int commandTokensAt;

  /** Commands refused in a row for the rate; past {@link #MAX_REFUSED_COMMANDS} we close. */
  private int refusedCommands;

  WebSocketSession(ServerContext context, WebSocketUpgrade.Handshake handshake, boolean monitor) {
    this.context = context;
    this.handshake = handshake;
    this.singleJobId = handshake.jobId().orElse(null);
    this.monitor = monitor;
    this.auth = new SessionAuth(this);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
      opened(ctx);
    } else if (event == WebSocketFrameCodec.CLOSE_SENT) {
      closing = true;
      if (outbox != null) {
        outbox.discard(); // nothing may follow the codec's close frame
      }
    } else if (event
        == WebSocketServerProtocolHandler.ServerHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
      ctx.close();
    } else {
      super.userEventTriggered(ctx, event);
    }
  }

  private void opened(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    outbox =
        Outbox.webSocket(
            channel,
            context.config().limits(),
            () -> close(CloseCode.SLOW_CONSUMER, CloseCode.SLOW_CONSUMER.reason()),
            context.writes().of(ctx.executor()));
    subscriptions = new JobSubscriptions(context, this);
    Duration interval = context.config().webSocket().heartbeatInterval();
    wheel = context.wheels().of(ctx.executor());
    lastReadTick = wheel.tick();
    wheel.add(this);
    context.connections().add(this);
    // Written at once, not queued: it is the first message, and it leaves with the handshake
    // answer in one write.
    channel.writeAndFlush(
        Unpooled.wrappedBuffer(
            frame(
                new ServerMessage.ConnectionEstablished(
                    id(), interval.toSeconds(), Instant.now()))),
        channel.voidPromise());

    switch (handshake) {
      case WebSocketUpgrade.Handshake.Refused refused ->
          fail(refused.code(), refused.message(), Optional.empty());
      case WebSocketUpgrade.Handshake.Authenticated authenticated -> {
        // Without a token (auth switched off) the client is told who it is; with one it knows.
        boolean reply = authenticated.token().isEmpty();
        if (auth.accept(
            authenticated.principal(), authenticated.token(), Optional.empty(), reply)) {
          subscribeOnOpen();
        }
      }
      case WebSocketUpgrade.Handshake.AwaitingAuth awaiting ->
          // No token in the handshake: wait a little for a first-message auth, nothing else.
          auth.awaitFirstAuth();
    }
    context.accessLog().opened(this, user());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (wheel != null) {
      wheel.remove(this);
      context.connections().remove(this);
      context.accessLog().closed(this, outbox.written(), user());
    }
    if (monitoring) {
      context.monitor().leave(this);
    }
    context.limiter().releaseTotal();
    if (outbox != null) {
      outbox.discard();
    }
    auth.release();
    if (subscriptions != null) {
      subscriptions.closeAll();
    }
    super.channelInactive(ctx);
  }

  /**
   * A client that does not read what we write is not read from either: whatever it sends (pings,
   * commands) would only queue more answers it will not read.
   */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (outbox != null) {
      outbox.writabilityChanged();
    }
    pausedForWrites = !ctx.channel().isWritable();
    waitingChanged();
    super.channelWritabilityChanged(ctx);
  }

  /** Reads while the client reads us and no command waits for a free slot. */
  @Override
  public void waitingChanged() {
    if (channel == null) {
      return;
    }
    boolean read = !pausedForWrites && !subscriptions.hasWaitingWork();
    if (channel.config().isAutoRead() != read) {
      channel.config().setAutoRead(read);
    }
  }

  /** Once per heartbeat interval: close if silent too long, else ping; watch the token's expiry. */
  @Override
  void beat(long tick) {
    if (!channel.isActive() || closing) {
      return;
    }
    WebSocketConfig config = context.config().webSocket();
    if (tick - lastReadTick >= wheel.ticks(config.idleTimeout())) {
      close(
          CloseCode.GOING_AWAY,
          "idle timeout: no traffic for " + config.idleTimeout().toSeconds() + " s");
      return;
    }
    auth.watchExpiry();
    if (!channel.isWritable()) {
      return; // it has not read what it has; the outbox's stall check decides its fate
    }
    channel.write(new PingWebSocketFrame(), channel.voidPromise());
    send(new ServerMessage.Heartbeat(++heartbeats, Instant.now()));
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (wheel != null) {
      lastReadTick = wheel.tick(); // any bytes from the client, pongs included, show it is alive
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    try {
      if (message instanceof CloseWebSocketFrame close) {
        onCloseFrame(close); // only Netty's chain hands these on; the lean codec answers them
        return;
      }
      if (closing) {
        return;
      }
      if (message instanceof TextWebSocketFrame text) {
        onCommand(ByteBufUtil.getBytes(text.content()));
      } else if (message instanceof BinaryWebSocketFrame) {
        close(CloseCode.UNSUPPORTED_DATA, CloseCode.UNSUPPORTED_DATA.reason());
      }
    } finally {
      ReferenceCountUtil.release(message);
    }
  }

  /**
   * The client's close frame (permessage-deflate connections): the answer to ours ends the
   * connection; otherwise it is echoed after what is queued, and then the connection ends.
   */
  private void onCloseFrame(CloseWebSocketFrame frame) {
    if (closing) {
      channel.close();
      return;
    }
    closing = true;
    int code = frame.statusCode();
    outbox.close(code < 0 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(code, null), true);
  }

  private void onCommand(byte[] bytes) {
    if (!withinCommandRate()) {
      return;
    }
    ClientMessage command;
    try {
      command = context.encodings().codec().decode(bytes);
    } catch (ProtocolException e) {
      error(e.code(), e.getMessage(), e.requestId());
      return;
    }
    Principal caller = auth.principal();
    switch (command) {
      case ClientMessage.Ping ping -> send(new ServerMessage.Pong(ping.requestId(), Instant.now()));
      case ClientMessage.Auth message -> {
        if (auth.onAuth(message)) {
          subscribeOnOpen();
        } else if (monitoring && !auth.principal().isAdmin()) {
          // a refreshed token without the admin role ends the system stream
          fail(ErrorCode.FORBIDDEN, "the monitor stream needs the admin role", Optional.empty());
        }
      }
      case ClientMessage other when caller == null ->
          error(
              ErrorCode.AUTH_REQUIRED,
              "send an auth message with a token first",
              other.requestId());
      case ClientMessage.Subscribe subscribe ->
          subscriptions.subscribe(
              caller, subscribe.jobId(), subscribe.since(), subscribe.requestId());
      case ClientMessage.Unsubscribe unsubscribe ->
          subscriptions.unsubscribe(unsubscribe.jobId(), unsubscribe.requestId());
      case ClientMessage.Cancel cancel -> cancel(caller, cancel);
    }
  }

  /**
   * Takes one command from the connection's allowance. Past it the command is refused with {@code
   * rate_limited} (before it is even parsed, so a flood costs no parsing); a client that goes on
   * regardless is closed with 4429.
   */
  private boolean withinCommandRate() {
    Rate rate = context.config().limits().commandRate();
    if (rate.unlimited()) {
      return true;
    }
    int now = (int) (System.nanoTime() / 1_000_000);
    if (commandTokens < 0) {
      commandTokens = rate.burst();
    } else {
      int elapsed = now - commandTokensAt; // wraps safely
      commandTokens =
          (float) Math.min(rate.burst(), commandTokens + elapsed * rate.perSecond() / 1000);
    }
    commandTokensAt = now;
    if (commandTokens >= 1) {
      commandTokens -= 1;
      refusedCommands = 0;
      return true;
    }
    context.meters().rateLimited(ServerMeters.RateLimit.COMMAND_RATE);
    if (++refusedCommands > MAX_REFUSED_COMMANDS) {
      close(CloseCode.RATE_LIMITED, "command rate exceeded");
    } else {
      error(
          ErrorCode.RATE_LIMITED,
          "too many commands (expected: at most " + rate + " per connection)",
          Optional.empty());
    }
    return false;
  }

  /**
   * Once authenticated: subscribes a single-job endpoint to its job, or joins a monitor to the
   * system stream (admins only); the handshake is not needed after.
   */
  private void subscribeOnOpen() {
    OptionalLong since = handshake.since();
    handshake = null;
    if (singleJobId != null) {
      subscriptions.subscribe(auth.principal(), singleJobId, since, Optional.empty());
    } else if (monitor) {
      if (!auth.principal().isAdmin()) {
        fail(ErrorCode.FORBIDDEN, "the monitor stream needs the admin role", Optional.empty());
        return;
      }
      monitoring = true;
      context.monitor().join(this);
    }
  }

  private void cancel(Principal caller, ClientMessage.Cancel command) {
    if (!JobIds.isValid(command.jobId())) {
      error(
          ErrorCode.INVALID_JOB_ID,
          JobIds.invalid(command.jobId()).getMessage(),
          command.requestId());
      return;
    }
    subscriptions.submit(
        () -> {
          try {
            Job cancelled = JobAccess.cancel(context.hub(), caller, command.jobId());
            send(
                new ServerMessage.Cancelled(
                    cancelled.id(),
                    cancelled.status().wireName(),
                    cancelled.seq(),
                    command.requestId()));
          } catch (HubException e) {
            error(WireErrors.errorCode(e.reason()), e.getMessage(), command.requestId());
          }
        },
        command.requestId());
  }

  // What the subscription table sends, as protocol v1 messages.

  @Override
  public byte[] subscribed(
      String jobId, String status, long seq, boolean recovered, Optional<String> requestId) {
    return frame(new ServerMessage.Subscribed(jobId, status, seq, recovered, requestId));
  }

  @Override
  public ByteBuf state(Job job, boolean replay) {
    return context.encodings().webSocketFrame(job, replay);
  }

  @Override
  public void unsubscribed(String jobId, String status, long seq, Optional<String> requestId) {
    send(new ServerMessage.Unsubscribed(jobId, status, seq, requestId));
  }

  /** On a single-job endpoint the subscription is the connection: its failure closes it. */
  @Override
  public void subscribeFailed(
      String jobId, ErrorCode code, String message, Optional<String> requestId) {
    if (singleJobId != null) {
      fail(code, message, requestId);
    } else {
      error(code, message, requestId);
    }
  }

  @Override
  public void refused(ErrorCode code, String message, Optional<String> requestId) {
    error(code, message, requestId);
  }

  /**
   * On {@code /ws} the client is told which subscription ended by an {@code unsubscribed} it did
   * not ask for (no {@code id}; an {@code error} cannot name a job), then why; a single-job
   * endpoint closes with 4404.
   */
  @Override
  public void removed(String jobId, String status, long seq) {
    if (singleJobId == null) {
      unsubscribed(jobId, status, seq, Optional.empty());
    }
    subscribeFailed(jobId, ErrorCode.JOB_NOT_FOUND, "job was deleted: " + jobId, Optional.empty());
  }

  @Override
  public void replayAbandoned() {
    context.meters().replayAbandoned();
    close(CloseCode.SLOW_CONSUMER, CloseCode.SLOW_CONSUMER.reason());
  }

  @Override
  public boolean accepting() {
    return !closing && channel.isActive();
  }

  void send(ServerMessage message) {
    outbox.send(frame(message));
  }

  private byte[] frame(ServerMessage message) {
    return WebSocketFrames.text(context.encodings().codec().encode(message));
  }

  void error(ErrorCode code, String message, Optional<String> requestId) {
    send(new ServerMessage.Error(code, message, requestId));
  }

  /** Sends an error, then closes with the error's close code once it is on its way. */
  void fail(ErrorCode code, String message, Optional<String> requestId) {
    error(code, message, requestId);
    close(WireErrors.closeCode(code), message);
  }

  // The connection as the registry sees it.

  @Override
  public String id() {
    return Connections.format(id);
  }

  @Override
  public Transport transport() {
    return monitor ? Transport.MONITOR : Transport.WEBSOCKET;
  }

  @Override
  public Optional<Role> role() {
    Principal current = auth.principal();
    return current == null ? Optional.empty() : Optional.of(current.role());
  }

  @Override
  public void disconnect(String reason) {
    fail(ErrorCode.FORBIDDEN, "disconnected by an administrator: " + reason, Optional.empty());
  }

  @Override
  public boolean broadcast(String jobId, byte[] message) {
    if (subscriptions == null || !subscriptions.watches(jobId)) {
      return false;
    }
    outbox.send(WebSocketFrames.text(message));
    return true;
  }

  /** A frame of the system stream, written whoever else gets it. */
  @Override
  public void send(byte[] frame) {
    outbox.send(frame);
  }

  ServerContext context() {
    return context;
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
    return Instant.ofEpochMilli(openedAtMillis);
  }

  @Override
  public Optional<String> user() {
    Principal current = auth.principal();
    return current == null ? Optional.empty() : Optional.of(current.subject());
  }

  @Override
  public Set<String> watching() {
    return subscriptions == null ? Set.of() : subscriptions.jobIds();
  }

  /** Graceful shutdown: close 1001 after everything already queued, with the reconnect hint. */
  @Override
  public void goAway(Duration retryAfter) {
    close(CloseCode.GOING_AWAY, RetryHint.shutdownReason(retryAfter.toMillis()));
  }

  /** Closes with a close frame after everything already queued; safe from any thread. */
  void close(CloseCode code, String reason) {
    // The close frame goes through the outbox, behind everything already queued.
    Runnable closeFrame =
        () -> {
          if (closing || !channel.isActive()) {
            return;
          }
          closing = true;
          String trimmed = reason.length() > 120 ? reason.substring(0, 120) : reason;
          AccessLog.ending(channel, code.code(), trimmed);
          outbox.close(
              new CloseWebSocketFrame(new WebSocketCloseStatus(code.code(), trimmed)), false);
        };
    try {
      if (channel.eventLoop().inEventLoop()) {
        closeFrame.run();
      } else {
        channel.eventLoop().execute(closeFrame);
      }
    } catch (RejectedExecutionException loopGone) {
      // the connection went with its event loop
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      close(
          CloseCode.MESSAGE_TOO_BIG,
          "message larger than " + context.config().limits().maxFrameBytes() + " bytes");
    } else if (inflateFailure(cause) instanceof DecompressionException inflate) {
      // A message that inflates past the limit (a deflate bomb) is refused like any other message
      // that is too big; any other inflate failure is a broken stream. Written at once, not
      // queued: Netty's protocol handler closes the channel as soon as this returns.
      boolean tooBig = String.valueOf(inflate.getMessage()).contains("maximum size");
      CloseCode code = tooBig ? CloseCode.MESSAGE_TOO_BIG : CloseCode.PROTOCOL_ERROR;
      if (!closing && outbox != null) {
        closing = true;
        AccessLog.ending(ctx.channel(), code.code(), code.reason());
        outbox.discard();
        ctx.channel()
            .writeAndFlush(new CloseWebSocketFrame(code.code(), code.reason()))
            .addListener(ChannelFutureListener.CLOSE);
      }
    } else if (cause instanceof CorruptedWebSocketFrameException
        || cause instanceof CorruptedFrameException) {
      ctx.close(); // Netty already sent the matching close frame (1002 / 1007)
    } else if (!(cause instanceof ClosedChannelException)) {
      LOG.debug("closing connection {} after error", id(), cause);
      ctx.close();
    }
  }

  /** The inflate failure behind {@code cause} (Netty's decoders wrap it), or null. */
  private static Throwable inflateFailure(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof DecompressionException) {
        return t;
      }
    }
    return null;
  }
}
