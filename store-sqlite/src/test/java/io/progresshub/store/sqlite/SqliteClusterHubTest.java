package io.progresshub.store.sqlite;

import io.progresshub.core.ClusterHubContract;
import io.progresshub.core.spi.JobStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three hubs over one {@link SqliteJobStore} (one process may open its file only once, so they
 * share the store): its writer thread completes the appends of all three.
 */
class SqliteClusterHubTest extends ClusterHubContract {

  @TempDir Path dataDir;

  @Override
  protected JobStore newSharedStore() {
    return SqliteJobStore.open(dataDir);
  }
}
