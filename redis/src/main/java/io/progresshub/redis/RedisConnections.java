package io.progresshub.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.progresshub.core.HubException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce clients as the store and the broker need them, on a standalone server (or one found
 * through Sentinel) and on a Redis Cluster alike, and Redis failures as hub errors.
 *
 * <p>Which one a URI names is asked of the server ({@code INFO cluster}), so an operator gives the
 * same kind of URI for both; several seed nodes of a cluster may be given, comma-separated ({@code
 * redis://h1:7000,h2:7000}). Every key of a deployment shares one hash tag ({@link RedisKeys}), so
 * the scripts run unchanged on a cluster: on the shard that holds that slot.
 */
final class RedisConnections {

  /** What a producer refused for an unreachable Redis is told to wait before it retries. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /**
   * Longest wait between two reconnect attempts. Lettuce's default grows to 30 s, which would keep
   * a node answering 503 for up to 30 s after Redis came back.
   */
  static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);

  /** How often a cluster client re-reads the topology when nothing else made it do so. */
  static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(10);

  private static final System.Logger LOG = System.getLogger(RedisConnections.class.getName());

  /** The sentinels' channel announcing a new master. */
  private static final String SWITCH_MASTER = "+switch-master";

  private RedisConnections() {}

  /** Commands on one connection: the async and sync views share it. */
  record Commands(
      StatefulConnection<String, String> connection,
      RedisClusterAsyncCommands<String, String> async,
      RedisClusterCommands<String, String> sync) {

    /**
     * Commands that go straight to the master holding {@code key}, on one connection: what {@code
     * WAIT} needs, as it counts the replicas that have the writes of the connection it is sent on.
     * On one server, {@link #async} itself.
     *
     * @throws HubException {@code store_unavailable} while no master serves the key's slot
     */
    RedisClusterAsyncCommands<String, String> master(String key) {
      if (!(connection instanceof StatefulRedisClusterConnection<String, String> cluster)) {
        return async;
      }
      int slot = SlotHash.getSlot(key);
      RedisClusterNode master = cluster.getPartitions().getMasterBySlot(slot);
      if (master == null) {
        throw HubException.unavailable(
            "no Redis Cluster master serves slot " + slot + " now", null, RETRY_AFTER);
      }
      return cluster.getConnection(master.getNodeId()).async();
    }
  }

  /** A Lettuce client with threads of its own, shut down together. */
  abstract static sealed class Client permits Standalone, Cluster {
    final ClientResources resources;

    Client(ClientResources resources) {
      this.resources = resources;
    }

    abstract Commands connect();

    abstract StatefulRedisPubSubConnection<String, String> connectPubSub();

    /** Whether the URI named a Redis Cluster. */
    abstract boolean cluster();

    /**
     * Runs {@code action} (on a Lettuce thread) whenever the client finds that the cluster's
     * topology changed: a failover or a slot moved. Never, for one server.
     */
    void onTopologyChange(Runnable action) {}

    /**
     * Runs {@code action} (on a Lettuce thread) whenever the sentinels announce that they switched
     * the master ({@code +switch-master}). Never, without Sentinel.
     */
    void onMasterSwitch(Runnable action) {}

    abstract AbstractRedisClient lettuce();

    /** Closes the connections, then stops the client's threads; waits at most about 2 s each. */
    void shutdown() {
      lettuce().shutdown(0, 2, TimeUnit.SECONDS);
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  /** One server, or the master a Sentinel names. */
  static final class Standalone extends Client {
    private final RedisClient redis;
    private final RedisURI uri;

    Standalone(RedisClient redis, RedisURI uri, ClientResources resources) {
      super(resources);
      this.redis = redis;
      this.uri = uri;
    }

    /**
     * Listens to every sentinel's {@code +switch-master}. Lettuce asks the sentinels for the master
     * only when it reconnects, and the old master keeps its clients until the sentinels demote it,
     * up to 10 s later, acknowledging writes the new master will never have; hearing the switch
     * lets the caller reconnect at once. A sentinel that cannot be reached now is skipped: the
     * others announce the same switch.
     */
    @Override
    void onMasterSwitch(Runnable action) {
      String master = uri.getSentinelMasterId();
      for (RedisURI sentinel : uri.getSentinels()) {
        try {
          StatefulRedisPubSubConnection<String, String> announcements =
              redis.connectPubSub(sentinel);
          announcements.addListener(
              new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                  // "<master name> <old ip> <old port> <new ip> <new port>"
                  if (message.startsWith(master + " ")) {
                    LOG.log(
                        System.Logger.Level.INFO,
                        "Sentinel switched the master: {0}; reconnecting to the new one",
                        message);
                    action.run();
                  }
                }
              });
          announcements.async().subscribe(SWITCH_MASTER);
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "cannot listen to the sentinel at {0}:{1} for master switches: {2}",
              sentinel.getHost(),
              sentinel.getPort(),
              e.toString());
        }
      }
    }

    @Override
    Commands connect() {
      StatefulRedisConnection<String, String> c = redis.connect();
      return new Commands(c, c.async(), c.sync());
    }

    @Override
    StatefulRedisPubSubConnection<String, String> connectPubSub() {
      return redis.connectPubSub();
    }

    @Override
    boolean cluster() {
      return false;
    }

    @Override
    AbstractRedisClient lettuce() {
      return redis;
    }
  }

  /** A Redis Cluster: commands go to the shard of their keys, and follow it across failovers. */
  static final class Cluster extends Client {
    private final RedisClusterClient redis;

    Cluster(RedisClusterClient redis, ClientResources resources) {
      super(resources);
      this.redis = redis;
    }

    @Override
    Commands connect() {
      StatefulRedisClusterConnection<String, String> c = redis.connect();
      return new Commands(c, c.async(), c.sync());
    }

    @Override
    StatefulRedisPubSubConnection<String, String> connectPubSub() {
      return redis.connectPubSub();
    }

    @Override
    boolean cluster() {
      return true;
    }

    @Override
    void onTopologyChange(Runnable action) {
      resources
          .eventBus()
          .get()
          .filter(ClusterTopologyChangedEvent.class::isInstance)
          .subscribe(event -> action.run());
    }

    @Override
    AbstractRedisClient lettuce() {
      return redis;
    }
  }

  /**
   * A client whose commands fail within the settings' timeout, and at once while disconnected,
   * instead of queueing until Redis is back: a caller is answered {@code store_unavailable}
   * quickly, never left hanging. It reconnects by itself.
   *
   * @param replay whether commands in flight when the connection dropped are sent again after it
   *     comes back: never for the store (an append its caller was told failed must not land later),
   *     always for the broker's subscriptions
   * @throws RuntimeException when the server cannot be reached to ask what it is
   */
  static Client client(RedisSettings settings, boolean replay) {
    List<RedisURI> uris = uris(settings);
    ClientResources resources =
        DefaultClientResources.builder()
            // Two connections at most per client: a few threads are enough, whatever the cores.
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(2)
            .reconnectDelay(
                Delay.exponential(
                    Duration.ofMillis(10), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
            .build();
    try {
      boolean sentinel = !uris.get(0).getSentinels().isEmpty();
      if (sentinel || !clusterEnabled(uris, resources)) {
        RedisClient standalone = RedisClient.create(resources, uris.get(0));
        standalone.setOptions(options(ClientOptions.builder(), settings, replay).build());
        if (uris.size() > 1) {
          throw new IllegalArgumentException(
              "several hosts are given but "
                  + settings.address()
                  + " is not a Redis Cluster (one server takes one host; Sentinel takes"
                  + " redis-sentinel://...#master)");
        }
        return new Standalone(standalone, uris.get(0), resources);
      }
      RedisClusterClient cluster = RedisClusterClient.create(resources, uris);
      ClusterClientOptions.Builder options =
          ClusterClientOptions.builder()
              .topologyRefreshOptions(
                  ClusterTopologyRefreshOptions.builder()
                      .enableAllAdaptiveRefreshTriggers()
                      .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                      .build());
      options(options, settings, replay);
      cluster.setOptions(options.build());
      return new Cluster(cluster, resources);
    } catch (RuntimeException e) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The URI, or the seed nodes of a cluster given comma-separated, with the settings' timeout. */
  private static List<RedisURI> uris(RedisSettings settings) {
    String uri = settings.uri();
    List<RedisURI> uris =
        uri.startsWith("redis-sentinel") || !uri.substring(uri.indexOf("//") + 2).contains(",")
            ? List.of(RedisURI.create(uri))
            : RedisClusterURIUtil.toRedisURIs(URI.create(uri));
    for (RedisURI each : uris) {
      each.setTimeout(settings.commandTimeout());
    }
    return uris;
  }

  /**
   * Asks the first seed that answers whether it is a cluster node: a cluster is still reachable
   * while some of the seeds an operator listed are down.
   *
   * @throws RuntimeException the last seed's failure, when none answers
   */
  private static boolean clusterEnabled(List<RedisURI> seeds, ClientResources resources) {
    RuntimeException failure = null;
    for (RedisURI seed : seeds) {
      RedisClient probe = RedisClient.create(resources, seed);
      try (StatefulRedisConnection<String, String> connection = probe.connect()) {
        return connection.sync().info("cluster").contains("cluster_enabled:1");
      } catch (RuntimeException e) {
        failure = e;
      } finally {
        probe.shutdown(0, 2, TimeUnit.SECONDS);
      }
    }
    throw failure;
  }

  private static <B extends ClientOptions.Builder> B options(
      B options, RedisSettings settings, boolean replay) {
    options
        .autoReconnect(true)
        .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
        .socketOptions(SocketOptions.builder().connectTimeout(settings.commandTimeout()).build());
    if (!replay) {
      options
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .replayFilter(command -> true);
    }
    return options;
  }

  /**
   * Has the server close this connection ({@code CLIENT KILL} of its own id), so that Lettuce
   * reconnects, asking Sentinel for the master again. Nothing happens if the server is gone: the
   * connection is reconnecting already.
   */
  static void reconnect(RedisClusterAsyncCommands<String, String> connection) {
    try {
      connection
          .clientId()
          .thenCompose(id -> connection.clientKill(KillArgs.Builder.id(id).skipme(false)))
          .exceptionally(failure -> 0L);
    } catch (RuntimeException e) {
      // disconnected: it reconnects by itself
    }
  }

  /** A Redis failure (timeout, connection lost or refused) as {@code store_unavailable}. */
  static HubException unavailable(String what, Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HubException hubException) {
      return hubException;
    }
    return HubException.unavailable(
        what
            + ": Redis failed or did not answer in time ("
            + cause.getClass().getSimpleName()
            + ": "
            + cause.getMessage()
            + ")",
        cause,
        RETRY_AFTER);
  }
}
