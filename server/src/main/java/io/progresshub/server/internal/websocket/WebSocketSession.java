package io.progresshub.server.internal.websocket;

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
import io.netty.util.concurrent.ScheduledFuture;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobIds;
import io.progresshub.core.Principal;
import io.progresshub.core.Subscriber;
import io.progresshub.core.Subscription;
import io.progresshub.protocol.ClientMessage;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.ProtocolException;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.server.Rate;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.internal.ConnectionLimiter;
import io.progresshub.server.internal.JobAccess;
import io.progresshub.server.internal.Outbox;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.WebSocketFrames;
import io.progresshub.server.internal.WireErrors;
import io.progresshub.server.internal.http.JobJson;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection speaking protocol v1. Commands are read on the channel's event loop; hub
 * calls that may touch the store run on the blocking executor and report back to the loop.
 * Everything the client receives goes through one {@link Outbox}, so replies and job states keep
 * their order.
 */
public final class WebSocketSession extends HeartbeatWheel.Member {
  private static final Logger LOG = LoggerFactory.getLogger(WebSocketSession.class);

  /**
   * Commands refused for the rate, in a row, before the connection is closed with 4429: a client
   * that ignores {@code rate_limited} is not going to slow down.
   */
  public static final int MAX_REFUSED_COMMANDS = 10;

  private final ServerContext context;

  /** How the connection was opened; dropped once the client is authenticated. */
  private WebSocketUpgrade.Setup setup;

  /** The job of a single-job endpoint ({@code /ws/{jobId}}), else null. */
  private final String singleJobId;

  private final long connectionNumber = ThreadLocalRandom.current().nextLong() & 0xffffffffffffL;

  // Event-loop state.
  private Channel channel;
  private Outbox outbox;
  private volatile Principal principal;
  private boolean countedUser;
  private Map<String, JobSubscriber> subscriptions;
  private boolean closing;
  private long heartbeats;
  private HeartbeatWheel wheel;
  private long lastReadTick;
  private long tokenExpiresAtMillis; // 0: no expiry
  private ScheduledFuture<?> authDeadline;

  /** Not reading: the client does not read what we write (see {@link Outbox}). */
  private boolean pausedForWrites;

  /** Store-bound commands running now, and those waiting for one of them to finish. */
  private int runningCommands;

  private ArrayDeque<Runnable> waitingCommands;

  /**
   * The command allowance, a token bucket kept inline (a bucket object would cost a connection more
   * than these two fields): tokens left, -1 before the first command (a full bucket), and when it
   * was last refilled, in wrapping milliseconds.
   */
  private float commandTokens = -1;

  private int commandTokensAt;

  /** Commands refused in a row for the rate; past {@link #MAX_REFUSED_COMMANDS} we close. */
  private int refusedCommands;

  WebSocketSession(ServerContext context, WebSocketUpgrade.Setup setup) {
    this.context = context;
    this.setup = setup;
    this.singleJobId = setup.jobId().orElse(null);
  }

  // ------------------------------------------------------------------ lifecycle

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
    Duration interval = context.config().webSocket().heartbeatInterval();
    wheel = context.wheels().of(ctx.executor());
    lastReadTick = wheel.tick();
    wheel.add(this);
    // Written at once, not queued: it is the first message, and it leaves with the handshake
    // answer in one write.
    channel.writeAndFlush(
        Unpooled.wrappedBuffer(
            frame(
                new ServerMessage.ConnectionEstablished(
                    connectionId(), interval.toSeconds(), Instant.now()))),
        channel.voidPromise());

    if (setup.refusal().isPresent()) {
      ConnectionLimiter.Refusal refusal = setup.refusal().get();
      fail(refusal.code(), refusal.message(), Optional.empty(), CloseCode.RATE_LIMITED);
    } else if (setup.badRequest().isPresent()) {
      fail(
          ErrorCode.INVALID_REQUEST,
          setup.badRequest().get(),
          Optional.empty(),
          CloseCode.BAD_REQUEST);
    } else if (setup.authFailure().isPresent()) {
      fail(
          ErrorCode.UNAUTHORIZED,
          setup.authFailure().get().getMessage(),
          Optional.empty(),
          CloseCode.UNAUTHORIZED);
    } else if (setup.principal().isPresent()) {
      // Without a token (auth switched off) the client is told who it is; with one it knows.
      boolean reply = setup.token().isEmpty();
      if (authenticated(setup.principal().get(), setup.token(), Optional.empty(), reply)) {
        subscribeOnOpen();
      }
    } else {
      // No token in the handshake: wait a little for a first-message auth, nothing else.
      authDeadline =
          ctx.executor()
              .schedule(
                  () ->
                      fail(
                          ErrorCode.AUTH_REQUIRED,
                          "no auth message in time",
                          Optional.empty(),
                          CloseCode.UNAUTHORIZED),
                  context.config().limits().handshakeTimeout().toMillis(),
                  TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (wheel != null) {
      wheel.remove(this);
    }
    context.limiter().releaseTotal();
    if (outbox != null) {
      outbox.discard();
    }
    cancelAuthDeadline();
    if (subscriptions != null) {
      subscriptions.values().forEach(JobSubscriber::cancel);
      subscriptions = null;
    }
    Principal current = principal;
    if (countedUser && current != null) {
      context.limiter().releaseUser(current.subject());
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
    updateAutoRead();
    super.channelWritabilityChanged(ctx);
  }

  /** Reads while the client reads us and no command waits for a free slot. */
  private void updateAutoRead() {
    if (channel == null) {
      return;
    }
    boolean read = !pausedForWrites && (waitingCommands == null || waitingCommands.isEmpty());
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
    watchTokenExpiry();
    if (!channel.isWritable()) {
      return; // it has not read what it has; the outbox's stall check decides its fate
    }
    channel.write(new PingWebSocketFrame(), channel.voidPromise());
    send(new ServerMessage.Heartbeat(++heartbeats, Instant.now()));
  }

  /**
   * Arms an exact timer for the token's expiry once it is nearer than the next heartbeat (with a
   * second to spare); until then each heartbeat looks again.
   */
  private void watchTokenExpiry() {
    if (tokenExpiresAtMillis == 0 || authDeadline != null) {
      return;
    }
    long left = tokenExpiresAtMillis - System.currentTimeMillis();
    if (left > context.config().webSocket().heartbeatInterval().toMillis() + 1000) {
      return; // a later beat arms it
    }
    authDeadline =
        channel
            .eventLoop()
            .schedule(
                () ->
                    fail(
                        ErrorCode.UNAUTHORIZED,
                        "token expired",
                        Optional.empty(),
                        CloseCode.UNAUTHORIZED),
                Math.max(0, left),
                TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (wheel != null) {
      lastReadTick = wheel.tick(); // any bytes from the client, pongs included, show it is alive
    }
    ctx.fireChannelReadComplete();
  }

  // ------------------------------------------------------------------ reading

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
      command = context.frames().codec().decode(bytes);
    } catch (ProtocolException e) {
      error(e.code(), e.getMessage(), e.requestId());
      return;
    }
    switch (command) {
      case ClientMessage.Ping ping -> send(new ServerMessage.Pong(ping.id(), Instant.now()));
      case ClientMessage.Auth auth -> onAuth(auth);
      case ClientMessage other when principal == null ->
          error(ErrorCode.AUTH_REQUIRED, "send an auth message with a token first", other.id());
      case ClientMessage.Subscribe subscribe ->
          subscribe(subscribe.jobId(), subscribe.since(), subscribe.id());
      case ClientMessage.Unsubscribe unsubscribe -> unsubscribe(unsubscribe);
      case ClientMessage.Cancel cancel -> cancel(cancel);
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

  private void onAuth(ClientMessage.Auth auth) {
    Principal verified;
    try {
      verified = context.authenticator().verify(auth.token());
    } catch (HubException e) {
      if (principal == null) {
        fail(ErrorCode.UNAUTHORIZED, e.getMessage(), auth.id(), CloseCode.UNAUTHORIZED);
      } else {
        error(ErrorCode.UNAUTHORIZED, e.getMessage(), auth.id()); // keep the current token
      }
      return;
    }
    Principal current = principal;
    if (current != null && !current.subject().equals(verified.subject())) {
      error(ErrorCode.FORBIDDEN, "a refreshed token must be for the same user", auth.id());
      return;
    }
    boolean first = current == null;
    if (authenticated(verified, Optional.of(auth.token()), auth.id(), true) && first) {
      subscribeOnOpen();
    }
  }

  /**
   * Once authenticated: subscribes a single-job endpoint to its job; the setup is not needed after.
   */
  private void subscribeOnOpen() {
    WebSocketUpgrade.Setup opened = setup;
    setup = null;
    if (singleJobId != null) {
      subscribe(singleJobId, opened.since(), Optional.empty());
    }
  }

  /** Records the caller; answers {@code authenticated} when {@code reply} (asked by message). */
  private boolean authenticated(
      Principal verified, Optional<String> token, Optional<String> requestId, boolean reply) {
    cancelAuthDeadline();
    if (!countedUser) {
      if (!context.limiter().tryAcquireUser(verified.subject())) {
        fail(
            ErrorCode.TOO_MANY_CONNECTIONS,
            "too many connections for this user",
            requestId,
            CloseCode.RATE_LIMITED);
        return false;
      }
      countedUser = true;
    }
    principal = verified;
    Optional<Instant> expiry = token.flatMap(context.authenticator()::expiry);
    if (context.authenticator().enabled() && expiry.isPresent()) {
      // The connection lives no longer than its token, unless the client refreshes it. The
      // heartbeat checks the expiry; an exact timer is armed only once it is near.
      tokenExpiresAtMillis = Math.max(1, expiry.get().toEpochMilli());
      watchTokenExpiry();
    } else {
      tokenExpiresAtMillis = 0;
    }
    if (reply) {
      send(
          new ServerMessage.Authenticated(
              verified.subject(), verified.role().wireName(), expiry, requestId));
    }
    return true;
  }

  private void cancelAuthDeadline() {
    if (authDeadline != null) {
      authDeadline.cancel(false);
      authDeadline = null;
    }
  }

  // ------------------------------------------------------------------ commands

  private void subscribe(String jobId, OptionalLong since, Optional<String> requestId) {
    boolean single = singleJobId != null;
    if (!JobIds.isValid(jobId)) {
      HubException invalid = invalidJobId(jobId);
      if (single) {
        fail(ErrorCode.INVALID_JOB_ID, invalid.getMessage(), requestId, CloseCode.BAD_REQUEST);
      } else {
        error(ErrorCode.INVALID_JOB_ID, invalid.getMessage(), requestId);
      }
      return;
    }
    if (subscriptions == null) {
      subscriptions = new HashMap<>(4);
    }
    JobSubscriber previous = subscriptions.remove(jobId);
    if (previous != null) {
      previous.cancel(); // a re-subscribe restarts the stream from the client's since
    }
    int limit = context.config().limits().maxSubscriptionsPerConnection();
    if (subscriptions.size() >= limit) {
      error(
          ErrorCode.TOO_MANY_SUBSCRIPTIONS,
          "at most " + limit + " subscriptions per connection",
          requestId);
      return;
    }
    // Registered before the hub is asked, so an unsubscribe that follows at once finds it.
    Principal caller = principal;
    JobSubscriber subscriber = new JobSubscriber(jobId, requestId);
    subscriptions.put(jobId, subscriber);
    submit(
        () -> {
          Job job = null;
          Subscription subscription = null;
          HubException failure = null;
          try {
            job = JobAccess.watchable(context.hub(), caller, jobId);
            if (!subscriber.cancelled) { // superseded or unsubscribed while it waited
              subscription = context.hub().subscribe(jobId, since, subscriber);
            }
          } catch (HubException e) {
            failure = e;
          }
          Job known = job;
          Subscription done = subscription;
          HubException failed = failure;
          onLoop(
              () -> {
                if (failed != null) {
                  if (subscriptions != null) {
                    subscriptions.remove(jobId, subscriber);
                  }
                  subscribeFailed(failed, requestId, single);
                  subscriber.answerUnsubscribe(null);
                } else {
                  subscriber.attach(done, known);
                }
              },
              done);
        },
        requestId);
  }

  private void subscribeFailed(HubException failure, Optional<String> requestId, boolean single) {
    ErrorCode code = WireErrors.errorCode(failure.reason());
    if (!single) {
      error(code, failure.getMessage(), requestId);
      return;
    }
    CloseCode close =
        switch (code) {
          case JOB_NOT_FOUND -> CloseCode.JOB_NOT_FOUND;
          case FORBIDDEN -> CloseCode.FORBIDDEN;
          case STORE_UNAVAILABLE -> CloseCode.INTERNAL_ERROR;
          default -> CloseCode.BAD_REQUEST;
        };
    fail(code, failure.getMessage(), requestId, close);
  }

  private void unsubscribe(ClientMessage.Unsubscribe command) {
    JobSubscriber subscriber = subscriptions == null ? null : subscriptions.remove(command.jobId());
    if (subscriber == null) {
      error(
          ErrorCode.NOT_SUBSCRIBED,
          "not subscribed to job " + JobJson.abbreviate(command.jobId()),
          command.id());
      return;
    }
    subscriber.cancel();
    if (subscriber.settled) {
      send(
          new ServerMessage.Unsubscribed(
              command.jobId(), subscriber.status, subscriber.seq, command.id()));
    } else {
      // The subscribe is still pending: it answers once it knows the job's status and seq.
      subscriber.unsubscribeRequest = command.id();
      subscriber.unsubscribeRequested = true;
    }
  }

  private void cancel(ClientMessage.Cancel command) {
    if (!JobIds.isValid(command.jobId())) {
      error(ErrorCode.INVALID_JOB_ID, invalidJobId(command.jobId()).getMessage(), command.id());
      return;
    }
    Principal caller = principal;
    submit(
        () -> {
          try {
            Job cancelled = JobAccess.cancel(context.hub(), caller, command.jobId());
            send(
                new ServerMessage.Cancelled(
                    cancelled.id(), cancelled.status().wireName(), cancelled.seq(), command.id()));
          } catch (HubException e) {
            error(WireErrors.errorCode(e.reason()), e.getMessage(), command.id());
          }
        },
        command.id());
  }

  // ------------------------------------------------------------------ store-bound commands

  /**
   * Runs {@code task} (which may wait for the store) on the blocking executor, at most {@code
   * maxPendingCommands} at once per connection. Past that, the task waits here and reading stops
   * until one finishes: one connection cannot start unbounded work, however many commands it packs
   * into one write.
   */
  private void submit(Runnable task, Optional<String> requestId) {
    if (runningCommands >= context.config().limits().maxPendingCommands()) {
      if (waitingCommands == null) {
        waitingCommands = new ArrayDeque<>(4);
      }
      waitingCommands.add(() -> start(task, requestId));
      updateAutoRead();
      return;
    }
    start(task, requestId);
  }

  private void start(Runnable task, Optional<String> requestId) {
    runningCommands++;
    try {
      context
          .blocking()
          .execute(
              () -> {
                try {
                  task.run();
                } finally {
                  onLoop(this::commandDone, null);
                }
              });
    } catch (RejectedExecutionException shuttingDown) {
      runningCommands--;
      error(ErrorCode.SHUTTING_DOWN, "server is shutting down", requestId);
    }
  }

  private void commandDone() {
    runningCommands--;
    int max = context.config().limits().maxPendingCommands();
    while (waitingCommands != null && !waitingCommands.isEmpty() && runningCommands < max) {
      waitingCommands.poll().run();
    }
    updateAutoRead();
  }

  // ------------------------------------------------------------------ writing

  private void send(ServerMessage message) {
    outbox.send(frame(message));
  }

  private byte[] frame(ServerMessage message) {
    return WebSocketFrames.text(context.frames().codec().encode(message));
  }

  private void error(ErrorCode code, String message, Optional<String> requestId) {
    send(new ServerMessage.Error(code, message, requestId));
  }

  /** Sends an error, then closes with {@code close} once it is on its way. */
  private void fail(ErrorCode code, String message, Optional<String> requestId, CloseCode close) {
    error(code, message, requestId);
    close(close, message);
  }

  /** Graceful shutdown: close 1001 after everything already queued. */
  public void goingAway() {
    close(CloseCode.GOING_AWAY, "server shutting down");
  }

  public Channel channel() {
    return channel;
  }

  /** Closes with a close frame after everything already queued; safe from any thread. */
  void close(CloseCode code, String reason) {
    // The close frame goes through the outbox, behind everything already queued.
    onLoop(
        () -> {
          if (closing || !channel.isActive()) {
            return;
          }
          closing = true;
          String trimmed = reason.length() > 120 ? reason.substring(0, 120) : reason;
          outbox.close(
              new CloseWebSocketFrame(new WebSocketCloseStatus(code.code(), trimmed)), false);
        },
        null);
  }

  /** Runs on the event loop; if the loop is gone, releases {@code orphan}. */
  private void onLoop(Runnable task, Subscription orphan) {
    try {
      if (channel.eventLoop().inEventLoop()) {
        task.run();
      } else {
        channel.eventLoop().execute(task);
      }
    } catch (RejectedExecutionException e) {
      if (orphan != null) {
        orphan.close();
      }
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
        outbox.discard();
        ctx.channel()
            .writeAndFlush(new CloseWebSocketFrame(code.code(), code.reason()))
            .addListener(ChannelFutureListener.CLOSE);
      }
    } else if (cause instanceof CorruptedWebSocketFrameException
        || cause instanceof CorruptedFrameException) {
      ctx.close(); // Netty already sent the matching close frame (1002 / 1007)
    } else if (!(cause instanceof ClosedChannelException)) {
      LOG.debug("closing connection {} after error", connectionId(), cause);
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

  private static HubException invalidJobId(String jobId) {
    try {
      JobIds.check(jobId);
      throw new IllegalStateException("valid id reported invalid");
    } catch (HubException e) {
      return e;
    }
  }

  /** The id the client is told; kept as a number, not a string, for the connection's lifetime. */
  private String connectionId() {
    return "c-" + Long.toHexString(connectionNumber);
  }

  /**
   * One subscription of this connection: delivers the job's states into the outbox and remembers
   * what it delivered last. Registered before the hub has answered; the hub's subscription is
   * attached once it exists (on the event loop), and closed at once if cancelled meanwhile. Once
   * cancelled (on the event loop) nothing it sent is written any more, even if it was queued
   * before: so nothing about the job follows {@code unsubscribed}, and a re-subscribe's stream
   * never interleaves with the one it replaced.
   */
  private final class JobSubscriber implements Subscriber, Outbox.Source {
    private final String jobId;
    private final Optional<String> requestId;
    volatile String status = "pending";
    volatile long seq;
    private Subscription subscription; // event loop only

    /** Set on the event loop only; read by the hub's threads to skip work that will be dropped. */
    volatile boolean cancelled;

    /** Whether the subscribe has finished, well or not (event loop only). */
    boolean settled;

    /** An unsubscribe waiting for the pending subscribe to finish (event loop only). */
    boolean unsubscribeRequested;

    Optional<String> unsubscribeRequest = Optional.empty();

    JobSubscriber(String jobId, Optional<String> requestId) {
      this.jobId = jobId;
      this.requestId = requestId;
    }

    /** The subscribe finished: {@code subscription} is live unless cancelled meanwhile. */
    void attach(Subscription subscription, Job known) {
      settled = true;
      if (subscription == null || cancelled || closing || !channel.isActive()) {
        if (subscription != null) {
          subscription.close();
        }
        answerUnsubscribe(known);
      } else {
        this.subscription = subscription;
      }
    }

    void cancel() {
      cancelled = true;
      if (subscription != null) {
        subscription.close();
        subscription = null;
      }
    }

    /**
     * Answers an unsubscribe that waited for this subscribe to finish: with the job's state as the
     * subscribe found it (the client may have seen none of the subscription's messages, which are
     * dropped once it is cancelled), or {@code not_subscribed} if the subscribe failed.
     */
    void answerUnsubscribe(Job known) {
      settled = true;
      if (!unsubscribeRequested) {
        return;
      }
      unsubscribeRequested = false;
      if (known == null) {
        error(
            ErrorCode.NOT_SUBSCRIBED,
            "not subscribed to job " + JobJson.abbreviate(jobId),
            unsubscribeRequest);
        return;
      }
      send(
          new ServerMessage.Unsubscribed(
              jobId, known.status().wireName(), known.seq(), unsubscribeRequest));
    }

    @Override
    public boolean live() {
      return !cancelled;
    }

    @Override
    public boolean awaitReplayDemand() {
      if (cancelled) {
        return false;
      }
      if (outbox.awaitDrained()) {
        return true;
      }
      // The replay is abandoned: the client must not wait for the rest on an open connection.
      close(CloseCode.SLOW_CONSUMER, CloseCode.SLOW_CONSUMER.reason());
      return false;
    }

    @Override
    public void onSubscribed(Job current, boolean recovered) {
      status = current.status().wireName();
      seq = current.seq();
      if (!cancelled) {
        outbox.send(
            frame(new ServerMessage.Subscribed(jobId, status, seq, recovered, requestId)), this);
      }
    }

    @Override
    public void onJob(Job job, boolean replay, boolean transition) {
      status = job.status().wireName();
      seq = job.seq();
      if (!cancelled) {
        outbox.send(
            jobId, !replay && !transition, context.frames().webSocketFrame(job, replay), this);
      }
    }

    @Override
    public void onRemoved(String removedJobId) {
      onLoop(
          () -> {
            if (cancelled) {
              return;
            }
            if (subscriptions != null) {
              subscriptions.remove(jobId, this);
            }
            cancel();
            if (singleJobId != null) {
              fail(
                  ErrorCode.JOB_NOT_FOUND,
                  "job was deleted: " + jobId,
                  Optional.empty(),
                  CloseCode.JOB_NOT_FOUND);
            } else {
              error(ErrorCode.JOB_NOT_FOUND, "job was deleted: " + jobId, Optional.empty());
            }
          },
          null);
    }
  }
}
