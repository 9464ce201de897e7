package io.progresshub.redis;

import io.progresshub.core.ClusterHubContract;
import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobStore;
import java.util.Optional;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Three hubs, each with its own store and broker, on a real three-master Redis Cluster. */
class RedisHubsOnClusterTest extends ClusterHubContract {

  @RegisterExtension static final RedisClusterServers CLUSTER = new RedisClusterServers();

  private final String prefix = RedisServer.freshPrefix();

  @Override
  protected JobStore newSharedStore() {
    return RedisJobStore.open(CLUSTER.settings(prefix, "shared"));
  }

  @Override
  protected Optional<JobStore> newHubStore(int index) {
    return Optional.of(RedisJobStore.open(CLUSTER.settings(prefix, "hub-" + index)));
  }

  @Override
  protected Broker newHubBroker(int index) {
    return RedisBroker.open(CLUSTER.settings(prefix, "hub-" + index));
  }
}
