package io.progresshub.redis;

import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.JobStoreContract;
import java.util.Optional;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The store contract against a real redis-server; each test has keys of its own. */
class RedisJobStoreTest extends JobStoreContract {

  @RegisterExtension static final RedisServer REDIS = new RedisServer();

  @Override
  protected JobStore newStore() {
    return RedisJobStore.open(REDIS.settings(RedisServer.freshPrefix(), "node-1"));
  }

  /** Another connection to the same keys: what a restarted node sees. */
  @Override
  protected Optional<JobStore> reopen(JobStore closed) {
    return Optional.of(RedisJobStore.open(((RedisJobStore) closed).settings()));
  }
}
