package io.progresshub.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobIds;
import io.progresshub.core.Principal;
import io.progresshub.core.Subscriber;
import io.progresshub.core.Subscription;
import io.progresshub.protocol.ErrorCode;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;

/**
 * The jobs one connection watches, whatever its transport: the per-connection limit, the bound on
 * store-bound work in flight, subscribe (access check, then the hub), unsubscribe, and the end of
 * all subscriptions when the connection goes. What the client receives goes into the connection's
 * {@link Outbox}, shaped by the transport's {@link Wire} (WebSocket frames, SSE events).
 *
 * <p>Event-loop confined, but for the hub's calls into each subscription, which only send into the
 * outbox. Nothing a subscription sent is written once it has ended (its {@link Outbox.Source} is no
 * longer live), so nothing about a job follows the client's {@code unsubscribed}, and a
 * re-subscribe's stream never interleaves with the one it replaced.
 */
public final class JobSubscriptions {

  /** What a transport makes of the table's events. Called on the event loop unless said. */
  public interface Wire {
    /** The connection's channel: the table runs on its event loop. */
    Channel channel();

    /** Where everything for the client goes, in order. */
    Outbox outbox();

    /**
     * The bytes that acknowledge a subscription, or null when the transport has none. Called on the
     * hub's thread.
     */
    byte[] subscribed(
        String jobId, String status, long seq, boolean recovered, Optional<String> id);

    /** One of the job's states; the caller owns the buffer. Called on the hub's thread. */
    ByteBuf state(Job job, boolean replay);

    /** After a state was queued: an SSE stream ends after the terminal one. Hub's thread. */
    default void afterState(Job job) {}

    /** The answer to an unsubscribe, with the last status and seq the client was sent. */
    void unsubscribed(String jobId, String status, long seq, Optional<String> requestId);

    /** A subscribe that failed (unknown job, bad id, a limit, the store). */
    void subscribeFailed(String jobId, ErrorCode code, String message, Optional<String> requestId);

    /** Any other refused command ({@code not_subscribed}, {@code shutting_down}). */
    void refused(ErrorCode code, String message, Optional<String> requestId);

    /**
     * The job was deleted: its subscription has ended.
     *
     * @param status the last status the subscription knew
     * @param seq the last seq the subscription knew
     */
    void removed(String jobId, String status, long seq);

    /** The client reads a replay too slowly to finish it: it must resume instead. Any thread. */
    void replayAbandoned();

    /** Whether new subscriptions may start: false once the connection is closing. */
    boolean accepting();

    /** Work waiting for a slot started or finished: the transport may pause or resume reading. */
    default void waitingChanged() {}
  }

  private final ServerContext context;
  private final Wire wire;
  private Map<String, Entry> entries;
  private boolean closed;

  /** Store-bound work running now, and work waiting for one of them to finish. */
  private int running;

  private ArrayDeque<Runnable> waiting;

  public JobSubscriptions(ServerContext context, Wire wire) {
    this.context = context;
    this.wire = wire;
  }

  /**
   * Starts streaming {@code jobId} to the connection from {@code since}, if {@code caller} may
   * watch it. A subscription to a job already watched restarts its stream from {@code since}.
   */
  public void subscribe(
      Principal caller, String jobId, OptionalLong since, Optional<String> requestId) {
    if (closed) {
      return;
    }
    if (!JobIds.isValid(jobId)) {
      wire.subscribeFailed(
          jobId, ErrorCode.INVALID_JOB_ID, JobIds.invalid(jobId).getMessage(), requestId);
      return;
    }
    if (entries == null) {
      entries = new HashMap<>(4);
    }
    Entry previous = entries.remove(jobId);
    if (previous != null) {
      previous.cancel(); // a re-subscribe restarts the stream from the client's since
    }
    int limit = context.config().limits().maxSubscriptionsPerConnection();
    if (entries.size() >= limit) {
      wire.subscribeFailed(
          jobId,
          ErrorCode.TOO_MANY_SUBSCRIPTIONS,
          "at most " + limit + " subscriptions per connection",
          requestId);
      return;
    }
    // Registered before the hub is asked, so an unsubscribe that follows at once finds it.
    Entry entry = new Entry(jobId, since, requestId);
    entries.put(jobId, entry);
    submit(
        () -> {
          Job job = null;
          Subscription subscription = null;
          HubException failure = null;
          try {
            job = JobAccess.watchable(context.hub(), caller, jobId);
            if (!entry.cancelled) { // superseded or unsubscribed while it waited
              subscription = context.hub().subscribe(jobId, since, entry);
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
                  if (entries != null) {
                    entries.remove(jobId, entry);
                  }
                  wire.subscribeFailed(
                      jobId, WireErrors.errorCode(failed.reason()), failed.getMessage(), requestId);
                  entry.answerUnsubscribe(null);
                } else {
                  entry.attach(done, known);
                }
              },
              done);
        },
        requestId);
  }

  /** Ends the subscription to {@code jobId}; the client gets {@code unsubscribed} last. */
  public void unsubscribe(String jobId, Optional<String> requestId) {
    Entry entry = entries == null ? null : entries.remove(jobId);
    if (entry == null) {
      wire.refused(
          ErrorCode.NOT_SUBSCRIBED, "not subscribed to job " + Text.abbreviate(jobId), requestId);
      return;
    }
    entry.cancel();
    if (entry.settled) {
      wire.unsubscribed(jobId, entry.status, entry.seq, requestId);
    } else {
      // The subscribe is still pending: it answers once it knows the job's status and seq.
      entry.unsubscribeRequest = requestId;
      entry.unsubscribeRequested = true;
    }
  }

  /**
   * Runs {@code task} (which may wait for the store) on the blocking executor, at most {@code
   * maxPendingCommands} at once per connection. Past that it waits here ({@link #hasWaitingWork}
   * tells the transport to stop reading): one connection cannot start unbounded work, however many
   * commands it packs into one write.
   */
  public void submit(Runnable task, Optional<String> requestId) {
    if (running >= context.config().limits().maxPendingCommands()) {
      if (waiting == null) {
        waiting = new ArrayDeque<>(4);
      }
      waiting.add(() -> start(task, requestId));
      wire.waitingChanged();
      return;
    }
    start(task, requestId);
  }

  /** Whether work waits for a slot: a transport reads no further commands meanwhile. */
  public boolean hasWaitingWork() {
    return waiting != null && !waiting.isEmpty();
  }

  /** Whether the job is watched now (event loop). */
  public boolean watches(String jobId) {
    return entries != null && entries.containsKey(jobId);
  }

  /** The jobs watched now (event loop). */
  public Set<String> jobIds() {
    return entries == null ? Set.of() : Set.copyOf(entries.keySet());
  }

  public int size() {
    return entries == null ? 0 : entries.size();
  }

  /** The connection has gone: ends every subscription. */
  public void closeAll() {
    closed = true;
    if (entries != null) {
      entries.values().forEach(Entry::cancel);
      entries = null;
    }
  }

  private void start(Runnable task, Optional<String> requestId) {
    running++;
    try {
      context
          .blocking()
          .execute(
              () -> {
                try {
                  task.run();
                } finally {
                  onLoop(this::workDone, null);
                }
              });
    } catch (RejectedExecutionException shuttingDown) {
      running--;
      wire.refused(ErrorCode.SHUTTING_DOWN, "server is shutting down", requestId);
    }
  }

  private void workDone() {
    running--;
    int max = context.config().limits().maxPendingCommands();
    boolean started = false;
    while (waiting != null && !waiting.isEmpty() && running < max) {
      waiting.poll().run();
      started = true;
    }
    if (started) {
      wire.waitingChanged();
    }
  }

  /** Runs on the event loop; if the loop is gone, releases {@code orphan}. */
  private void onLoop(Runnable task, Subscription orphan) {
    try {
      if (wire.channel().eventLoop().inEventLoop()) {
        task.run();
      } else {
        wire.channel().eventLoop().execute(task);
      }
    } catch (RejectedExecutionException e) {
      if (orphan != null) {
        orphan.close();
      }
    }
  }

  /**
   * One subscription: delivers the job's states into the outbox and remembers what it delivered
   * last. Registered before the hub has answered; the hub's subscription is attached once it exists
   * (on the event loop), and closed at once if cancelled meanwhile.
   */
  private final class Entry implements Subscriber, Outbox.Source {
    private final String jobId;
    private final Optional<String> requestId;

    /**
     * The seq up to which the client has the job's states: its resume's {@code since} (-1 for
     * none), kept only if the job is there yet (see onSubscribed). The hub calls us one at a time.
     */
    private long alreadySeen;

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

    Entry(String jobId, OptionalLong since, Optional<String> requestId) {
      this.jobId = jobId;
      this.alreadySeen = since.orElse(-1);
      this.requestId = requestId;
    }

    /** The subscribe finished: {@code subscription} is live unless cancelled meanwhile. */
    void attach(Subscription subscription, Job known) {
      settled = true;
      if (subscription == null || cancelled || closed || !wire.accepting()) {
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
        wire.refused(
            ErrorCode.NOT_SUBSCRIBED,
            "not subscribed to job " + Text.abbreviate(jobId),
            unsubscribeRequest);
        return;
      }
      wire.unsubscribed(jobId, known.status().wireName(), known.seq(), unsubscribeRequest);
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
      if (wire.outbox().awaitDrained()) {
        return true;
      }
      // The replay is abandoned: the client must not wait for the rest on an open connection.
      wire.replayAbandoned();
      return false;
    }

    @Override
    public void onSubscribed(Job current, boolean recovered) {
      status = current.status().wireName();
      seq = current.seq();
      // A client resuming at or behind the current seq has the states up to its since; one ahead
      // of the store (it lost data) gets the current state again.
      if (alreadySeen > current.seq()) {
        alreadySeen = -1;
      }
      if (cancelled) {
        return;
      }
      byte[] acknowledgement = wire.subscribed(jobId, status, seq, recovered, requestId);
      if (acknowledgement != null) {
        wire.outbox().send(acknowledgement, this);
      }
    }

    @Override
    public void onJob(Job job, boolean replay, boolean transition) {
      if (job.seq() <= alreadySeen) {
        return;
      }
      status = job.status().wireName();
      seq = job.seq();
      if (!cancelled) {
        wire.outbox().send(jobId, !replay && !transition, wire.state(job, replay), this);
        wire.afterState(job);
      }
    }

    @Override
    public void onRemoved(String removedJobId) {
      onLoop(
          () -> {
            if (cancelled) {
              return;
            }
            if (entries != null) {
              entries.remove(jobId, this);
            }
            cancel();
            wire.removed(jobId, status, seq);
          },
          null);
    }
  }
}
