package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.BrokerContract;

class LoopbackBusTest extends BrokerContract {

  private final LoopbackBus bus = new LoopbackBus();

  @Override
  protected Broker newNode() {
    return bus.newBroker();
  }
}
