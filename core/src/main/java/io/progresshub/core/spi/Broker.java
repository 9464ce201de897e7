package io.progresshub.core.spi;

import io.progresshub.core.HubEvent;
import java.util.function.Consumer;

/**
 * Carries durable changes to every node, including the one that made them: the whole cluster
 * contract is {@link #publish} and {@link #subscribe}.
 *
 * <p>Contract: thread-safe; {@code publish} never drops an event and blocks only briefly: it may
 * wait while the broker's bounded backlog is full (back-pressure on the store's writer, which
 * publishes), but not on I/O to other nodes; events published from one thread reach each receiver
 * in that order; the receiver is called from one thread at a time and must not block, and an
 * exception it throws does not stop later deliveries. After {@link #close} nothing more is
 * delivered, and a publisher waiting for room returns.
 */
public interface Broker extends AutoCloseable {

  /** Sends the event to every node's receiver. */
  void publish(HubEvent event);

  /** Registers this node's receiver; called once, before the first publish. */
  void subscribe(Consumer<HubEvent> receiver);

  @Override
  void close();
}
