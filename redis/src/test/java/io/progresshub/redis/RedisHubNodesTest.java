package io.progresshub.redis;

import io.progresshub.core.ClusterHubContract;
import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobStore;
import java.util.Optional;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three hubs as three nodes would run them: each with its own {@link RedisJobStore} and {@link
 * RedisBroker} on one redis-server, so every change reaches the others through Redis.
 */
class RedisHubNodesTest extends ClusterHubContract {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  private final String prefix = RedisServer.freshPrefix();

  @Override
  protected JobStore newSharedStore() {
    return RedisJobStore.open(REDIS.settings(prefix, "shared"));
  }

  @Override
  protected Optional<JobStore> newHubStore(int index) {
    return Optional.of(RedisJobStore.open(REDIS.settings(prefix, "hub-" + index)));
  }

  @Override
  protected Broker newHubBroker(int index) {
    return RedisBroker.open(REDIS.settings(prefix, "hub-" + index));
  }
}
