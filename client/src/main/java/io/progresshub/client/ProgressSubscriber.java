package io.progresshub.client;

import io.progresshub.protocol.ClientCodec;
import io.progresshub.protocol.ClientMessage;
import io.progresshub.protocol.CloseCode;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.JobState;
import io.progresshub.protocol.ProtocolException;
import io.progresshub.protocol.RetryHint;
import io.progresshub.protocol.ServerMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Watches jobs over one multiplexed WebSocket ({@code /ws}, protocol v1, docs/protocol.md).
 * Thread-safe; listeners are called on one event thread of its own.
 *
 * <p>The connection opens with the first {@link #watch} and is kept open: when it is lost it is
 * opened again after a {@link Backoff} delay (0.5 s to 20 s with full jitter by default; after a
 * 1001 from a server shutting down, plus the {@code retry_after_ms} its reason asks for), and every
 * watched job is resumed with {@code since} = the last {@code seq} seen, so that a listener misses
 * no status change, stage change or terminal state, and never sees a {@code seq} twice (states at
 * or below the last one seen are dropped). Whether to reconnect follows the close-code table
 * ({@link CloseCode#shouldReconnect}): after 4404, 1008 and the like the subscriber gives up and
 * every watch ends with a {@link HubConnectionException}. After 4401 (token refused or expired) a
 * subscriber given a token supplier asks it once for a fresh token and reconnects; a second 4401
 * before a connection was authenticated again, or a 4401 with a fixed token, ends every watch with
 * a {@link HubConnectionException}.
 *
 * <p>A watched job that is deleted ends its watch with a {@link HubApiException} {@code
 * job_not_found}.
 *
 * <p>An administrator's broadcast to a watched job ({@code POST /api/jobs/{id}/broadcast}) reaches
 * the {@link JobListener#onBroadcast} of each of the job's listeners.
 *
 * <p>A connection from which nothing (not even a heartbeat) arrives for {@code missedHeartbeats}
 * heartbeat intervals is taken for dead and replaced. The token is sent in an {@code auth} message
 * (not in the URL), and a fresh one from the token supplier is sent over the open connection {@code
 * tokenRefreshMargin} before the current one expires.
 *
 * <pre>{@code
 * try (ProgressSubscriber hub = ProgressSubscriber.builder(URI.create("http://localhost:8080"))
 *     .token(() -> tokens.current()).build()) {
 *   hub.watch("job-42", state ->
 *       System.out.println(state.progress() + "% " + state.stage().orElse("")));
 *   JobState done = hub.awaitTerminal("job-42", Duration.ofMinutes(10));
 * }
 * }</pre>
 */
public final class ProgressSubscriber implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ProgressSubscriber.class.getName());
  private static final int MAX_MESSAGE_DEPTH = 64;

  private final URI webSocketUrl;
  private final Optional<Supplier<String>> token;
  private final boolean tokenRenews;
  private final Backoff backoff;
  private final int maxReconnectAttempts;
  private final Duration tokenRefreshMargin;
  private final double missedHeartbeats;
  private final Duration connectTimeout;
  private final ConnectionListener connectionListener;
  private final ClientCodec codec = new ClientCodec(MAX_MESSAGE_DEPTH);
  private final ExecutorService httpThreads;
  private final HttpClient http;

  /** Every field below is read and written on this thread only. */
  private final ScheduledExecutorService events;

  private final Map<String, Watch> watches = new LinkedHashMap<>();
  private final Map<String, String> pendingSubscribes = new HashMap<>();
  private Connection connection;
  private ScheduledFuture<?> reconnect;
  private int failedAttempts;
  private int unauthorizedInARow;
  private long requestIds;
  private boolean closed;
  private ProgressHubException failure;

  /** Written on the event thread, read by {@link #connectionId()} on any. */
  private volatile Optional<String> connectionId = Optional.empty();

  private ProgressSubscriber(Builder builder) {
    this.webSocketUrl = webSocketUrl(builder.baseUrl);
    this.token = Optional.ofNullable(builder.token);
    this.tokenRenews = builder.tokenRenews;
    this.backoff = builder.backoff;
    this.maxReconnectAttempts = builder.maxReconnectAttempts;
    this.tokenRefreshMargin = builder.tokenRefreshMargin;
    this.missedHeartbeats = builder.missedHeartbeats;
    this.connectTimeout = builder.connectTimeout;
    this.connectionListener = builder.connectionListener;
    this.events =
        Executors.newSingleThreadScheduledExecutor(daemon("progress-hub-subscriber-events"));
    this.httpThreads = Executors.newCachedThreadPool(daemon("progress-hub-subscriber-http"));
    this.http = HttpClient.newBuilder().executor(httpThreads).build();
  }

  /**
   * @param baseUrl the server, e.g. {@code http://localhost:8080} ({@code /ws} is added), or a
   *     {@code ws://} / {@code wss://} URL of the multiplexed endpoint
   */
  public static Builder builder(URI baseUrl) {
    return new Builder(baseUrl);
  }

  /**
   * Watches a job: {@code listener} gets its current state, then every change, until a terminal
   * state. Watching a job already watched adds the listener, which first gets the latest state.
   *
   * @return completes with the job's terminal state; exceptionally with a {@link
   *     ProgressHubException} when the job does not exist or the subscriber gave up, and with a
   *     {@link CancellationException} after {@link #unsubscribe} or {@link #close}
   */
  public CompletableFuture<JobState> watch(String jobId, JobListener listener) {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(listener, "listener");
    CompletableFuture<JobState> terminal = new CompletableFuture<>();
    events.execute(() -> addWatch(jobId, listener, terminal));
    return terminal;
  }

  /** Watches a job without a listener; see {@link #watch}. */
  public CompletableFuture<JobState> terminal(String jobId) {
    return watch(jobId, state -> {});
  }

  /**
   * Waits for the job's terminal state, watching it if it is not watched yet.
   *
   * @throws ProgressHubException when the job does not exist or the subscriber gave up
   * @throws TimeoutException when no terminal state arrived within {@code timeout}
   */
  public JobState awaitTerminal(String jobId, Duration timeout)
      throws InterruptedException, TimeoutException {
    try {
      return terminal(jobId).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ProgressHubException) {
        throw (ProgressHubException) e.getCause();
      }
      throw new ProgressHubException(e.getCause().toString(), Optional.empty(), e.getCause());
    }
  }

  /**
   * The server's id of the current connection ({@code connection_established}), e.g. to leave it
   * out of an administrator's broadcast ({@code "exclude"}); empty while not connected. A reconnect
   * gets a new one.
   */
  public Optional<String> connectionId() {
    return connectionId;
  }

  /** Stops watching the job; its futures complete with a {@link CancellationException}. */
  public void unsubscribe(String jobId) {
    events.execute(
        () -> {
          Watch watch = watches.remove(jobId);
          if (watch == null) {
            return;
          }
          watch.cancel();
          if (connection != null && connection.ready) {
            connection.send(unsubscribeCommand(jobId));
          }
        });
  }

  /** Closes the connection (1000) and ends every watch with a {@link CancellationException}. */
  @Override
  public void close() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      events.execute(
          () -> {
            closed = true;
            if (reconnect != null) {
              reconnect.cancel(false);
            }
            for (Watch watch : watches.values()) {
              watch.cancel();
            }
            watches.clear();
            if (connection != null) {
              connection.close();
              connection = null;
              connectionId = Optional.empty();
            }
            done.complete(null);
          });
      done.get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return; // already closed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the subscriber took too long", e);
    }
    events.shutdown();
    httpThreads.shutdown();
  }

  private void addWatch(String jobId, JobListener listener, CompletableFuture<JobState> terminal) {
    if (closed) {
      terminal.cancel(false);
      return;
    }
    if (failure != null) {
      terminal.completeExceptionally(failure);
      return;
    }
    Watch existing = watches.get(jobId);
    if (existing != null) {
      existing.add(listener, terminal);
      return;
    }
    Watch watch = new Watch(jobId);
    watch.add(listener, terminal);
    watches.put(jobId, watch);
    if (connection != null && connection.ready) {
      subscribe(connection, watch);
    } else if (connection == null && reconnect == null) {
      connect();
    }
  }

  private void connect() {
    reconnect = null;
    Connection attempt = new Connection();
    connection = attempt;
    http.newWebSocketBuilder()
        .connectTimeout(connectTimeout)
        .buildAsync(webSocketUrl, attempt)
        .whenComplete(
            (webSocket, error) -> {
              if (error != null) {
                events.execute(() -> lost(attempt, 1006, String.valueOf(rootCause(error))));
              }
            });
  }

  private void subscribe(Connection on, Watch watch) {
    String id = "s" + ++requestIds;
    pendingSubscribes.put(id, watch.jobId);
    OptionalLong since = watch.lastSeq > 0 ? OptionalLong.of(watch.lastSeq) : OptionalLong.empty();
    on.send(new ClientMessage.Subscribe(watch.jobId, since, Optional.of(id)));
  }

  /**
   * Our unsubscribes carry an id: an {@code unsubscribed} without one is the server ending a
   * subscription by itself (the job was deleted).
   */
  private ClientMessage.Unsubscribe unsubscribeCommand(String jobId) {
    return new ClientMessage.Unsubscribe(jobId, Optional.of("u" + ++requestIds));
  }

  /** The connection may carry subscriptions: authenticated, or open without a token. */
  private void ready(Connection on) {
    if (on.ready) {
      return;
    }
    on.ready = true;
    failedAttempts = 0;
    unauthorizedInARow = 0;
    pendingSubscribes.clear();
    safely(connectionListener::onConnected);
    for (Watch watch : new ArrayList<>(watches.values())) {
      subscribe(on, watch);
    }
  }

  private void received(Connection on, String text) {
    if (on != connection) {
      return; // a message that was under way when its connection was replaced
    }
    on.lastReceived = System.nanoTime();
    Optional<ServerMessage> decoded;
    try {
      decoded = codec.decode(text);
    } catch (ProtocolException e) {
      LOG.log(System.Logger.Level.WARNING, "unreadable server message: {0}", e.getMessage());
      return;
    }
    if (decoded.isEmpty()) {
      return; // a message type a newer server added
    }
    ServerMessage message = decoded.get();
    if (message instanceof ServerMessage.Progress) {
      progress(((ServerMessage.Progress) message).state());
    } else if (message instanceof ServerMessage.Broadcast) {
      broadcast((ServerMessage.Broadcast) message);
    } else if (message instanceof ServerMessage.ConnectionEstablished) {
      ServerMessage.ConnectionEstablished established =
          (ServerMessage.ConnectionEstablished) message;
      connectionId = Optional.of(established.connectionId());
      on.watchHeartbeats(established.heartbeatIntervalSeconds());
      if (token.isEmpty()) {
        ready(on);
      }
    } else if (message instanceof ServerMessage.Authenticated) {
      ready(on);
      ((ServerMessage.Authenticated) message).expiresAt().ifPresent(on::refreshBefore);
    } else if (message instanceof ServerMessage.Subscribed) {
      subscribed((ServerMessage.Subscribed) message);
    } else if (message instanceof ServerMessage.Unsubscribed) {
      unsubscribed((ServerMessage.Unsubscribed) message);
    } else if (message instanceof ServerMessage.Error) {
      error(on, (ServerMessage.Error) message);
    }
  }

  /** Not a state: no seq bookkeeping; dropped when the job was unwatched in the meantime. */
  private void broadcast(ServerMessage.Broadcast broadcast) {
    Watch watch = watches.get(broadcast.jobId());
    if (watch != null) {
      watch.broadcast(broadcast);
    }
  }

  /**
   * Unasked (no request id): the server ended the subscription because the job was deleted. The
   * {@code error} that follows cannot name the job; this does.
   */
  private void unsubscribed(ServerMessage.Unsubscribed unsubscribed) {
    if (unsubscribed.requestId().isPresent()) {
      return;
    }
    Watch watch = watches.remove(unsubscribed.jobId());
    if (watch != null) {
      watch.fail(
          new HubApiException(
              ErrorCode.JOB_NOT_FOUND.httpStatus(),
              ErrorCode.JOB_NOT_FOUND,
              "job was deleted while watched: " + watch.jobId));
    }
  }

  private void subscribed(ServerMessage.Subscribed subscribed) {
    subscribed.requestId().ifPresent(pendingSubscribes::remove);
    Watch watch = watches.get(subscribed.jobId());
    if (watch != null && !subscribed.recovered() && subscribed.seq() < watch.lastSeq) {
      // The server has less than we saw (its store was restored from an older copy): its
      // states are the truth from now on, so they must not be dropped as duplicates.
      watch.lastSeq = 0;
    }
  }

  private void progress(JobState state) {
    Watch watch = watches.get(state.jobId());
    if (watch == null || state.seq() <= watch.lastSeq) {
      return; // not watched (any more), or already seen before a reconnect
    }
    watch.deliver(state);
    if (state.isTerminal()) {
      watches.remove(state.jobId());
      if (connection != null && connection.ready) {
        connection.send(unsubscribeCommand(state.jobId()));
      }
    }
  }

  private void error(Connection on, ServerMessage.Error error) {
    Optional<String> jobId = error.requestId().map(pendingSubscribes::remove);
    if (jobId.isEmpty()) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "server error {0}: {1}",
          error.code().wireName(),
          error.message());
      return;
    }
    Watch watch = watches.get(jobId.get());
    if (watch == null) {
      return;
    }
    ErrorCode code = error.code();
    if (code == ErrorCode.STORE_UNAVAILABLE
        || code == ErrorCode.SHUTTING_DOWN
        || code == ErrorCode.RATE_LIMITED) {
      // Passing trouble: ask again later on the same connection.
      events.schedule(
          () -> {
            if (on == connection && on.ready && watches.get(watch.jobId) == watch) {
              subscribe(on, watch);
            }
          },
          backoff.delay(watch.retries++).toMillis(),
          TimeUnit.MILLISECONDS);
      return;
    }
    watches.remove(watch.jobId);
    String message =
        code == ErrorCode.JOB_NOT_FOUND && watch.latest != null
            ? "job was deleted while watched: " + watch.jobId
            : error.message();
    watch.fail(new HubApiException(code.httpStatus(), code, message));
  }

  /** {@code on} is gone: reconnect unless its close code says that cannot help. */
  private void lost(Connection on, int closeCode, String reason) {
    if (on != connection || on.closed) {
      return;
    }
    on.abort();
    connection = null;
    connectionId = Optional.empty();
    pendingSubscribes.clear();
    if (closed) {
      return;
    }
    if (!CloseCode.shouldReconnect(closeCode) && !freshTokenMayHelp(closeCode)) {
      fail(new HubConnectionException(closeCode, reason));
      return;
    }
    if (failedAttempts >= maxReconnectAttempts) {
      fail(
          new HubConnectionException(
              "cannot connect to "
                  + webSocketUrl
                  + " after "
                  + (failedAttempts + 1)
                  + " attempts: "
                  + reason,
              null));
      return;
    }
    Duration delay = backoff.delay(failedAttempts++).plus(retryHint(closeCode, reason));
    safely(() -> connectionListener.onDisconnected(closeCode, reason, delay));
    reconnect = events.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The wait a server shutting down asks for in its 1001 (a different one per connection, so that
   * its clients come back spread out), taken on top of the back-off's jitter.
   */
  private static Duration retryHint(int closeCode, String reason) {
    if (closeCode != CloseCode.GOING_AWAY.code()) {
      return Duration.ZERO;
    }
    return Duration.ofMillis(RetryHint.retryAfterMillis(reason).orElse(0));
  }

  /**
   * After a 4401 a token supplier is asked once for a new token (the next connect asks it); a
   * second 4401 before any connection was authenticated means the supplier has nothing better.
   */
  private boolean freshTokenMayHelp(int closeCode) {
    if (closeCode != CloseCode.UNAUTHORIZED.code() || !tokenRenews) {
      return false;
    }
    return ++unauthorizedInARow == 1;
  }

  private void fail(ProgressHubException error) {
    failure = error;
    for (Watch watch : watches.values()) {
      watch.fail(error);
    }
    watches.clear();
    safely(() -> connectionListener.onFailed(error));
  }

  private static void safely(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "a progress-hub listener failed", e);
    }
  }

  private static Throwable rootCause(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause;
  }

  private static URI webSocketUrl(URI baseUrl) {
    String scheme = baseUrl.getScheme();
    String wsScheme;
    if ("http".equals(scheme) || "ws".equals(scheme)) {
      wsScheme = "ws";
    } else if ("https".equals(scheme) || "wss".equals(scheme)) {
      wsScheme = "wss";
    } else {
      throw new IllegalArgumentException(
          "baseUrl: " + baseUrl + " (expected: http://, https://, ws:// or wss://)");
    }
    String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
    if (scheme.startsWith("http") || path.isEmpty() || path.equals("/")) {
      path = (path.endsWith("/") ? path.substring(0, path.length() - 1) : path) + "/ws";
    }
    return URI.create(wsScheme + "://" + baseUrl.getRawAuthority() + path);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /** One watched job: its listeners, and the last seq they were given. */
  private static final class Watch {
    final String jobId;
    final List<JobListener> listeners = new ArrayList<>();
    final List<CompletableFuture<JobState>> terminals = new ArrayList<>();
    long lastSeq;
    JobState latest;
    int retries;

    Watch(String jobId) {
      this.jobId = jobId;
    }

    void add(JobListener listener, CompletableFuture<JobState> terminal) {
      listeners.add(listener);
      terminals.add(terminal);
      if (latest != null) {
        JobState state = latest;
        safely(() -> listener.onState(state));
      }
    }

    void deliver(JobState state) {
      lastSeq = state.seq();
      latest = state;
      for (JobListener listener : listeners) {
        safely(() -> listener.onState(state));
      }
      if (state.isTerminal()) {
        for (CompletableFuture<JobState> terminal : terminals) {
          terminal.complete(state);
        }
      }
    }

    void broadcast(ServerMessage.Broadcast broadcast) {
      for (JobListener listener : listeners) {
        safely(() -> listener.onBroadcast(broadcast));
      }
    }

    void fail(ProgressHubException error) {
      for (JobListener listener : listeners) {
        safely(() -> listener.onError(error));
      }
      for (CompletableFuture<JobState> terminal : terminals) {
        terminal.completeExceptionally(error);
      }
    }

    void cancel() {
      for (CompletableFuture<JobState> terminal : terminals) {
        terminal.cancel(false);
      }
    }
  }

  /**
   * One WebSocket connection attempt. Its {@link WebSocket.Listener} callbacks only hand over to
   * the event thread; everything else runs there.
   */
  private final class Connection implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();
    private WebSocket webSocket;
    private CompletableFuture<?> sends = CompletableFuture.completedFuture(null);
    private boolean ready;
    private boolean closed;
    private long lastReceived = System.nanoTime();
    private ScheduledFuture<?> heartbeatCheck;
    private ScheduledFuture<?> tokenRefresh;
    private long authRequests;

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1);
      events.execute(() -> opened(webSocket));
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        String message = text.toString();
        text.setLength(0);
        events.execute(() -> received(this, message));
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, java.nio.ByteBuffer message) {
      events.execute(
          () -> {
            if (this == connection) {
              lastReceived = System.nanoTime();
            }
          });
      return WebSocket.Listener.super.onPing(webSocket, message);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      events.execute(() -> lost(this, statusCode, reason));
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      events.execute(() -> lost(this, 1006, String.valueOf(rootCause(error))));
    }

    private void opened(WebSocket webSocket) {
      this.webSocket = webSocket;
      lastReceived = System.nanoTime();
      if (this != connection || ProgressSubscriber.this.closed) {
        webSocket.abort();
        return;
      }
      token.ifPresent(supplier -> send(new ClientMessage.Auth(supplier.get(), authId())));
    }

    private Optional<String> authId() {
      return Optional.of("auth" + ++authRequests);
    }

    void send(ClientMessage message) {
      WebSocket to = webSocket;
      if (to == null || closed) {
        return;
      }
      String frame = codec.encode(message);
      // One send at a time (java.net.http's rule); a failed send shows up as onError/onClose.
      sends =
          sends.handle((ignored, error) -> null).thenCompose(ignored -> to.sendText(frame, true));
    }

    /** Takes the connection for dead after {@code missedHeartbeats} silent intervals. */
    void watchHeartbeats(long intervalSeconds) {
      if (intervalSeconds <= 0 || heartbeatCheck != null) {
        return;
      }
      long intervalMillis = intervalSeconds * 1000;
      long deadAfterNanos =
          TimeUnit.MILLISECONDS.toNanos((long) (intervalMillis * missedHeartbeats));
      heartbeatCheck =
          events.scheduleWithFixedDelay(
              () -> {
                long silentNanos = System.nanoTime() - lastReceived;
                if (silentNanos > deadAfterNanos) {
                  lost(
                      this,
                      1006,
                      "nothing received for "
                          + TimeUnit.NANOSECONDS.toMillis(silentNanos)
                          + " ms (heartbeat interval "
                          + intervalSeconds
                          + " s)");
                }
              },
              intervalMillis / 4,
              intervalMillis / 4,
              TimeUnit.MILLISECONDS);
    }

    /** Sends a fresh token {@code tokenRefreshMargin} before {@code expiresAt}. */
    void refreshBefore(Instant expiresAt) {
      if (token.isEmpty() || closed) {
        return;
      }
      if (tokenRefresh != null) {
        tokenRefresh.cancel(false);
      }
      Duration left = Duration.between(Instant.now(), expiresAt);
      // A token shorter-lived than the margin is refreshed halfway; never in a tight loop.
      Duration delay =
          left.compareTo(tokenRefreshMargin) > 0
              ? left.minus(tokenRefreshMargin)
              : left.dividedBy(2);
      if (delay.compareTo(Duration.ofSeconds(1)) < 0) {
        delay = Duration.ofSeconds(1);
      }
      tokenRefresh =
          events.schedule(
              () -> {
                if (this == connection && !closed) {
                  send(new ClientMessage.Auth(token.get().get(), authId()));
                }
              },
              delay.toMillis(),
              TimeUnit.MILLISECONDS);
    }

    void close() {
      WebSocket to = webSocket;
      stopTimers();
      closed = true;
      if (to != null) {
        sends
            .handle((ignored, error) -> null)
            .thenCompose(ignored -> to.sendClose(WebSocket.NORMAL_CLOSURE, ""))
            .orTimeout(2, TimeUnit.SECONDS)
            .whenComplete((ignored, error) -> to.abort());
      }
    }

    void abort() {
      stopTimers();
      closed = true;
      if (webSocket != null) {
        webSocket.abort();
      }
    }

    private void stopTimers() {
      if (heartbeatCheck != null) {
        heartbeatCheck.cancel(false);
      }
      if (tokenRefresh != null) {
        tokenRefresh.cancel(false);
      }
    }
  }

  /** Settings of a {@link ProgressSubscriber}; each has the default its setter documents. */
  public static final class Builder {
    private final URI baseUrl;
    private Supplier<String> token;
    private boolean tokenRenews;
    private Backoff backoff = Backoff.DEFAULT;
    private int maxReconnectAttempts = Integer.MAX_VALUE;
    private Duration tokenRefreshMargin = Duration.ofSeconds(60);
    private double missedHeartbeats = 2.5;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private ConnectionListener connectionListener = new ConnectionListener() {};

    private Builder(URI baseUrl) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      webSocketUrl(baseUrl); // checks the scheme now rather than at the first watch
    }

    /**
     * A token, asked for at each connect, before the current one expires, and once more after the
     * server refused one (close 4401); none by default (for a server run with {@code
     * --insecure-no-auth}).
     */
    public Builder token(Supplier<String> token) {
      this.token = Objects.requireNonNull(token, "token");
      this.tokenRenews = true;
      return this;
    }

    /** A fixed token: once the server refuses it (close 4401), the subscriber gives up. */
    public Builder token(String token) {
      Objects.requireNonNull(token, "token");
      this.token = () -> token;
      this.tokenRenews = false;
      return this;
    }

    /** Delays between reconnects; {@link Backoff#DEFAULT} (0.5 s to 20 s) by default. */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /**
     * Reconnects tried in a row, without an authenticated connection in between, before giving up;
     * unlimited by default.
     */
    public Builder maxReconnectAttempts(int maxReconnectAttempts) {
      if (maxReconnectAttempts < 0) {
        throw new IllegalArgumentException(
            "maxReconnectAttempts: " + maxReconnectAttempts + " (expected: >= 0)");
      }
      this.maxReconnectAttempts = maxReconnectAttempts;
      return this;
    }

    /**
     * How long before the connection's deadline (the server's {@code expires_at}: the token's
     * {@code exp} plus its clock skew) a fresh token is sent; 60 s by default.
     */
    public Builder tokenRefreshMargin(Duration tokenRefreshMargin) {
      this.tokenRefreshMargin = Objects.requireNonNull(tokenRefreshMargin, "tokenRefreshMargin");
      return this;
    }

    /** Heartbeat intervals of silence after which the connection is taken for dead; 2.5. */
    public Builder missedHeartbeats(double missedHeartbeats) {
      if (!(missedHeartbeats >= 1)) {
        throw new IllegalArgumentException(
            "missedHeartbeats: " + missedHeartbeats + " (expected: >= 1)");
      }
      this.missedHeartbeats = missedHeartbeats;
      return this;
    }

    /** 10 s by default. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
      return this;
    }

    /** Told when the connection comes and goes; nothing by default. */
    public Builder connectionListener(ConnectionListener connectionListener) {
      this.connectionListener = Objects.requireNonNull(connectionListener, "connectionListener");
      return this;
    }

    public ProgressSubscriber build() {
      return new ProgressSubscriber(this);
    }
  }
}
