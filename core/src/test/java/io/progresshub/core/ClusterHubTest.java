package io.progresshub.core;

import io.progresshub.core.spi.JobStore;

/** Three hubs over one {@link InMemoryJobStore}, as an embedding application might share it. */
class ClusterHubTest extends ClusterHubContract {

  @Override
  protected JobStore newSharedStore() {
    return new InMemoryJobStore();
  }
}
