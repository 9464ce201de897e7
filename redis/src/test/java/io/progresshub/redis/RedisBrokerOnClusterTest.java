package io.progresshub.redis;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.BrokerContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The broker contract against a real three-master Redis Cluster: the lifecycle channel crosses
 * shards, a job's shard channel lives on the master of the test's prefix.
 */
class RedisBrokerOnClusterTest extends BrokerContract {

  @RegisterExtension static final RedisClusterServers CLUSTER = new RedisClusterServers();

  private final String prefix = RedisServer.freshPrefix();
  private int nodes;

  @Override
  protected Broker newNode() {
    return RedisBroker.builder(CLUSTER.settings(prefix, "node-" + ++nodes))
        .publishEvents(true)
        .open();
  }
}
