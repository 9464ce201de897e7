package io.progresshub.redis;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.BrokerContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The broker contract against a real redis-server, with the broker sending updates itself (no
 * {@link RedisJobStore} broadcasts them here). Each test's nodes share a prefix of their own.
 */
class RedisBrokerTest extends BrokerContract {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  private final String prefix = RedisServer.freshPrefix();
  private int nodes;

  @Override
  protected Broker newNode() {
    return RedisBroker.builder(REDIS.settings(prefix, "node-" + ++nodes))
        .publishEvents(true)
        .open();
  }
}
