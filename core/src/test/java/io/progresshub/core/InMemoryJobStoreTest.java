package io.progresshub.core;

import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.JobStoreContract;

class InMemoryJobStoreTest extends JobStoreContract {

  @Override
  protected JobStore newStore() {
    return new InMemoryJobStore();
  }
}
