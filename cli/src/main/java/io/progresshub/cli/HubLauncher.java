package io.progresshub.cli;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobStore;
import io.progresshub.redis.RedisBroker;
import io.progresshub.redis.RedisJobStore;
import io.progresshub.redis.RedisSettings;
import io.progresshub.server.ProgressHubServer;
import io.progresshub.server.PrometheusHubMetrics;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.store.sqlite.SqliteJobStore;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a hub from {@link Settings}: the auth (the JWT secret, generated on first start), the
 * store (the SQLite file in the data directory, or with {@code --redis-url} a Redis shared with
 * other nodes, and its broker), the hub and the server, in that order. What is started before a
 * later step fails is closed again.
 *
 * <pre>{@code
 * try (RunningHub hub = HubLauncher.start(settings)) {
 *   connect(hub.address().webSocketUrl());
 * }
 * }</pre>
 */
final class HubLauncher {

  private static final Logger LOG = LoggerFactory.getLogger(HubLauncher.class);
  private static final Duration MAX_RETENTION_SWEEP_INTERVAL = Duration.ofMinutes(1);

  private HubLauncher() {}

  /**
   * A started hub, listening on its port.
   *
   * @throws StartFailure when the operator can act on the reason: the data directory is in use, the
   *     port is taken, the TLS certificate or key is unusable
   * @throws SettingsException when the JWT secret cannot be read or stored
   */
  static RunningHub start(Settings settings) throws StartFailure {
    AuthConfig auth = auth(settings);
    LOG.info(
        "Data directory {}, finished jobs kept {}",
        settings.dataDir().toAbsolutePath().normalize(),
        Durations.format(settings.retention()));
    Hub.Builder builder = Hub.builder();
    JobStore store;
    LongSupplier pendingWrites = () -> 0; // the store's write queue, where it has one
    Optional<Broker> broker = Optional.empty(); // the default: this node alone
    try {
      if (settings.redis().isPresent()) {
        RedisSettings redis = settings.redis().get().engine();
        RedisJobStore redisStore = RedisJobStore.open(redis);
        store = redisStore;
        try {
          broker = Optional.of(RedisBroker.open(redis));
          builder.broker(broker.get());
        } catch (HubException e) {
          store.close();
          throw e;
        }
        LOG.info(
            "Jobs kept in {} at {} under the prefix {}, shared with the other nodes there;"
                + " acknowledged once {} replicas hold them; this node is {}",
            redisStore.cluster() ? "a Redis Cluster" : "Redis",
            redis.address(),
            redis.keyPrefix(),
            redis.replicas(),
            redis.nodeId());
      } else {
        SqliteJobStore sqlite =
            SqliteJobStore.builder(settings.dataDir())
                .maxPendingWrites(settings.hub().storeQueue())
                .busyTimeout(settings.hub().storeBusyTimeout())
                .open();
        pendingWrites = sqlite::pendingWrites;
        store = sqlite;
      }
    } catch (HubException e) {
      // e.g. another server holds the data directory, or Redis cannot be reached
      throw new StartFailure(e.getMessage(), e);
    }
    ServerConfig config = settings.serverConfig(auth);
    PrometheusHubMetrics metrics =
        PrometheusHubMetrics.builder(config.metrics()).storePendingWrites(pendingWrites).build();
    Hub hub;
    try {
      hub =
          builder
              .store(store)
              .metrics(metrics)
              .retention(settings.retention())
              .retentionSweepInterval(retentionSweepInterval(settings.retention()))
              .maxReplay(settings.hub().maxReplay())
              .maxMetadataKeys(settings.hub().job().maxMetadataKeys())
              .maxJobStateBytes(settings.hub().job().maxStateBytes())
              .build();
    } catch (RuntimeException e) {
      broker.ifPresent(Broker::close);
      store.close();
      throw e;
    }
    ProgressHubServer server;
    try {
      server = ProgressHubServer.start(config, hub, metrics);
    } catch (Exception e) { // Netty rethrows a bind failure, a checked IOException, unchecked
      hub.close();
      if (e instanceof IOException) {
        String address = settings.host() + ":" + settings.port();
        throw new StartFailure("cannot listen on " + address + ": " + e.getMessage(), e);
      }
      if (e instanceof IllegalArgumentException && settings.tls().isPresent()) {
        throw new StartFailure(e.getMessage(), e); // the certificate or key: names the file
      }
      throw e;
    }
    return new RunningHub(settings, hub, server);
  }

  /**
   * A minute, or the retention when that is shorter: with a retention of seconds, a sweep once a
   * minute would keep a finished job, on every node, many times longer than asked.
   */
  static Duration retentionSweepInterval(Duration retention) {
    return retention.compareTo(MAX_RETENTION_SWEEP_INTERVAL) < 0
        ? retention
        : MAX_RETENTION_SWEEP_INTERVAL;
  }

  /** No auth with {@code --insecure-no-auth}; else HS256 with the secret, and the JWT settings. */
  private static AuthConfig auth(Settings settings) {
    if (settings.insecureNoAuth()) {
      return AuthConfig.disabled();
    }
    JwtSecrets.Secret secret = JwtSecrets.loadOrCreate(settings);
    LOG.info("JWT secret from {}", secret.source());
    return settings.jwt().applyTo(AuthConfig.hs256(secret.key()));
  }

  /**
   * A reason not to start that the operator can act on (port taken, data directory in use), in one
   * line: the message says what, the cause has the details.
   */
  static final class StartFailure extends Exception {
    StartFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
