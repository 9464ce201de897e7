package io.progresshub.redis;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.progresshub.core.HubEvent;
import io.progresshub.core.HubException;
import io.progresshub.core.InMemoryBroker;
import io.progresshub.core.spi.Broker;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A {@link Broker} over Redis pub/sub: several nodes on one Redis server hear of each other's
 * changes. Each event is encoded once ({@link RedisEventCodec}) and sent on one of two kinds of
 * channel:
 *
 * <ul>
 *   <li>creations, status changes and removals on one lifecycle channel that every node subscribes
 *       to ({@code SUBSCRIBE}): the hub's write cache and the monitor stream follow every job's
 *       lifecycle, and there are few of these;
 *   <li>ticks and stage changes on a shard channel per job ({@code SSUBSCRIBE}), which a node
 *       subscribes to only while it has local subscribers of the job ({@link #interest}).
 * </ul>
 *
 * <p>A node's own events go to its receiver directly, not round Redis, and the copy Redis brings
 * back is recognized by its origin and skipped: a node sees its own writes as soon as they are
 * durable, and each event once. Delivery runs on one dispatcher thread ({@link InMemoryBroker}), in
 * arrival order; its bounded backlog may hold up the Lettuce thread that reads the subscriptions
 * (at most a second at a time, then it queues anyway).
 *
 * <p>On a Redis Cluster the lifecycle channel reaches every shard (classic pub/sub is broadcast
 * across the cluster) and a job's shard channel lives on the shard of the deployment's hash tag.
 *
 * <p>Events are normally broadcast by {@link RedisJobStore}'s scripts, atomically with the change
 * (an append, a delete, a retention batch), so {@link #publish} only hands them to this node's
 * receiver ({@link Builder#publishEvents} sends them to Redis too, for a store that does not
 * broadcast). Redis unreachable: what this node publishes meanwhile reaches only its own receiver
 * (a warning is logged). When the subscription connection comes back (Lettuce reconnects and
 * subscribes again), every job this node watches is reported through {@link #onMissed}, so that its
 * subscribers are given what they missed from the store; the same happens when a job's subscription
 * becomes active, covering what was published just before.
 */
public final class RedisBroker implements Broker {

  private static final System.Logger LOG = System.getLogger(RedisBroker.class.getName());

  private final RedisSettings settings;
  private final RedisKeys keys;
  private final boolean publishEvents;
  private final RedisConnections.Client client;
  private final RedisConnections.Commands publisher;
  private final StatefulRedisPubSubConnection<String, String> subscriber;
  private final InMemoryBroker inbox = new InMemoryBroker();
  private final ExecutorService repairs;

  /** Jobs with local subscribers: their shard channels are subscribed. */
  private final Set<String> watched = ConcurrentHashMap.newKeySet();

  /** Jobs whose shard subscription Redis confirmed (and did not end since). */
  private final Set<String> listening = ConcurrentHashMap.newKeySet();

  private final AtomicBoolean warnedUnreachable = new AtomicBoolean();

  /** Hands on lifecycle events in log order, once each, reading back what the channel missed. */
  private final LifecycleLog lifecycle;

  private static final RedisScript LIFECYCLE =
      RedisScript.load("lifecycle.lua", ScriptOutputType.INTEGER);
  private volatile Consumer<String> missed = jobId -> {};
  private volatile boolean closed;

  private RedisBroker(
      Builder builder,
      RedisConnections.Client client,
      RedisConnections.Commands publisher,
      StatefulRedisPubSubConnection<String, String> subscriber) {
    this.settings = builder.settings;
    this.keys = new RedisKeys(settings.keyPrefix());
    this.publishEvents = builder.publishEvents;
    this.client = client;
    this.publisher = publisher;
    this.lifecycle = new LifecycleLog(keys, publisher, this::received, () -> closed);
    this.subscriber = subscriber;
    this.repairs =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "progress-hub-redis-repair");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** A broker with the default options: updates are broadcast by a {@link RedisJobStore}. */
  public static RedisBroker open(RedisSettings settings) {
    return builder(settings).open();
  }

  public static Builder builder(RedisSettings settings) {
    return new Builder(settings);
  }

  private static RedisBroker open(Builder builder) {
    RedisConnections.Client client;
    try {
      client = RedisConnections.client(builder.settings, true);
    } catch (RuntimeException e) {
      throw RedisConnections.unavailable(
          "cannot open the broker at " + builder.settings.address(), e);
    }
    try {
      RedisConnections.Commands publisher = client.connect();
      StatefulRedisPubSubConnection<String, String> subscriber = client.connectPubSub();
      RedisBroker broker = new RedisBroker(builder, client, publisher, subscriber);
      broker.listen();
      return broker;
    } catch (RuntimeException e) {
      client.shutdown();
      throw RedisConnections.unavailable(
          "cannot open the broker at " + builder.settings.address(), e);
    }
  }

  /** Subscribes to the lifecycle channel and waits until it is active. */
  private void listen() {
    subscriber.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String channel, String message) {
            if (channel.equals(keys.lifecycleChannel())) {
              lifecycle.live(message);
            } else {
              received(message);
            }
          }

          @Override
          public void subscribed(String channel, long count) {
            // Also after every reconnect: what went out meanwhile is read back from the log.
            if (channel.equals(keys.lifecycleChannel())) {
              lifecycle.readMissed(repairs);
            }
          }

          @Override
          public void smessage(String channel, String message) {
            received(message);
          }

          @Override
          public void ssubscribed(String channel, long count) {
            String jobId = keys.jobOfChannel(channel);
            if (jobId != null && watched.contains(jobId)) {
              listening.add(jobId);
              repair(jobId);
            }
          }

          @Override
          public void sunsubscribed(String channel, long count) {
            String jobId = keys.jobOfChannel(channel);
            if (jobId != null) {
              listening.remove(jobId);
            }
          }
        });
    subscriber.addListener(
        new RedisConnectionStateListener() {
          @Override
          public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress at) {
            if (!closed && warnedUnreachable.compareAndSet(true, false)) {
              LOG.log(
                  System.Logger.Level.INFO,
                  "reconnected to Redis at {0}; the {1} watched jobs are read again",
                  settings.address(),
                  watched.size());
            }
          }

          @Override
          public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
            listening.clear();
            if (!closed && warnedUnreachable.compareAndSet(false, true)) {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "lost the subscriptions to Redis at {0}; reconnecting",
                  settings.address());
            }
          }
        });
    lifecycle.start();
    subscriber.sync().subscribe(keys.lifecycleChannel());
    // A failover moves the job channels' slot to another master; the subscriptions held on the old
    // one do not follow by themselves, so they are made again where the slot now lives (and each
    // one's ssubscribed repairs what was missed meanwhile).
    client.onTopologyChange(this::resubscribeWatched);
    // After a Sentinel failover, away from the old master at once: it would keep both connections
    // (and acknowledge publishes nobody hears) until the sentinels demote it.
    client.onMasterSwitch(
        () -> {
          RedisConnections.reconnect(publisher.async());
          RedisConnections.reconnect(subscriber.async());
        });
  }

  private void resubscribeWatched() {
    if (closed || watched.isEmpty()) {
      return;
    }
    LOG.log(
        System.Logger.Level.INFO,
        "Redis Cluster topology changed; subscribing again to the {0} watched jobs",
        watched.size());
    for (String jobId : watched) {
      interest(jobId, true);
    }
  }

  @Override
  public void publish(HubEvent event) {
    Objects.requireNonNull(event, "event");
    if (closed) {
      return;
    }
    inbox.publish(event);
    if (!publishEvents) {
      return; // the store's script broadcast it, with the change itself
    }
    String message = RedisEventCodec.encode(settings.nodeId(), event);
    boolean onLifecycleChannel =
        !(event instanceof HubEvent.JobUpdated updated)
            || updated.change() == HubEvent.Change.CREATED
            || updated.change() == HubEvent.Change.STATUS;
    try {
      CompletableFuture<Long> sent =
          onLifecycleChannel
              ? LIFECYCLE.run(
                  publisher.async(),
                  new String[] {keys.lifecycleLog()},
                  keys.lifecycleChannel(),
                  message,
                  RedisKeys.LIFECYCLE_LOG_LENGTH)
              : publisher
                  .async()
                  .spublish(keys.jobChannel(event.jobId()), message)
                  .toCompletableFuture();
      sent.exceptionally(
          failure -> {
            warnNotSent(event, failure);
            return 0L;
          });
    } catch (RuntimeException e) {
      warnNotSent(event, e);
    }
  }

  @Override
  public void subscribe(Consumer<HubEvent> receiver) {
    inbox.subscribe(receiver);
  }

  @Override
  public void interest(String jobId, boolean interested) {
    if (closed) {
      return;
    }
    // Async, never waiting: the subscription answers later, and ssubscribed then repairs the job.
    // While Redis is away Lettuce queues the command and sends it once reconnected.
    try {
      if (interested) {
        watched.add(jobId);
        subscriber.async().ssubscribe(keys.jobChannel(jobId));
      } else {
        watched.remove(jobId);
        listening.remove(jobId);
        subscriber.async().sunsubscribe(keys.jobChannel(jobId));
      }
    } catch (RuntimeException e) {
      // Never fail the hub's subscribe for it: the job's lifecycle still arrives.
      LOG.log(
          System.Logger.Level.WARNING,
          "could not change the subscription to job " + jobId + "'s events: " + e);
    }
  }

  @Override
  public void onMissed(Consumer<String> jobId) {
    this.missed = Objects.requireNonNull(jobId, "jobId");
  }

  /**
   * Whether Redis confirmed this node's subscription to the job's ticks and stage changes: from
   * then on each reaches it live (before, what it missed is repaired from the store).
   */
  public boolean listening(String jobId) {
    return listening.contains(jobId);
  }

  /** How many jobs this node has local subscribers of, whose ticks it receives. */
  public int watchedJobs() {
    return watched.size();
  }

  /** Stops delivering, then disconnects. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    inbox.close();
    repairs.shutdownNow();
    subscriber.close();
    publisher.connection().close();
    client.shutdown();
  }

  /** A message from Redis, on a Lettuce I/O thread. */
  private void received(String message) {
    if (closed) {
      return;
    }
    RedisEventCodec.Message decoded;
    try {
      decoded = RedisEventCodec.decode(message);
    } catch (IllegalArgumentException | HubException e) {
      LOG.log(System.Logger.Level.WARNING, "skipped a message that is not an event", e);
      return;
    }
    if (!decoded.origin().equals(settings.nodeId())) {
      inbox.publish(decoded.event());
    }
  }

  /** Off the I/O thread: the repair reads the store. */
  private void repair(String jobId) {
    try {
      repairs.execute(
          () -> {
            if (!closed && watched.contains(jobId)) {
              missed.accept(jobId);
            }
          });
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void warnNotSent(HubEvent event, Throwable failure) {
    if (closed) {
      return;
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "could not send "
            + event.getClass().getSimpleName()
            + " of job "
            + event.jobId()
            + " to the other nodes: "
            + failure);
  }

  /** Options of a {@link RedisBroker}. */
  public static final class Builder {
    private final RedisSettings settings;
    private boolean publishEvents;

    private Builder(RedisSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * Whether {@link #publish} sends events to Redis itself. Default false: a {@link RedisJobStore}
     * with the same settings broadcasts them from its scripts, and sending them again would deliver
     * each twice. True for a node whose store is not a {@link RedisJobStore}.
     */
    public Builder publishEvents(boolean publishEvents) {
      this.publishEvents = publishEvents;
      return this;
    }

    /**
     * Connects, subscribes to the lifecycle channel and returns once that subscription is active.
     *
     * @throws HubException {@code store_unavailable} if Redis cannot be reached in time
     */
    public RedisBroker open() {
      return RedisBroker.open(this);
    }
  }
}
