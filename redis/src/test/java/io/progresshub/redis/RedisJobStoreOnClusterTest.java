package io.progresshub.redis;

import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.JobStoreContract;
import java.util.Optional;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The store contract against a real three-master Redis Cluster: each test's prefix hashes to some
 * master, so over the suite every master holds some tests' keys.
 */
class RedisJobStoreOnClusterTest extends JobStoreContract {

  @RegisterExtension static final RedisClusterServers CLUSTER = new RedisClusterServers();

  @Override
  protected JobStore newStore() {
    return RedisJobStore.open(CLUSTER.settings(RedisServer.freshPrefix(), "node-1"));
  }

  @Override
  protected Optional<JobStore> reopen(JobStore closed) {
    return Optional.of(RedisJobStore.open(((RedisJobStore) closed).settings()));
  }
}
