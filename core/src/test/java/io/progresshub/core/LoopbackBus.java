package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Joins several hubs in one JVM the way a Redis pub/sub channel joins nodes: each hub gets its own
 * {@link Broker} view from {@link #newBroker()}, and an event published on any view reaches the
 * receivers of every open view, the publisher's own included.
 *
 * <p>Each view delivers on a dispatcher thread of its own (an {@link InMemoryBroker}), so views
 * receive independently of one another: one node's slow receiver does not hold up another's, and
 * events from different publishers may reach different nodes in different orders, as they may over
 * a real network. Events from one publishing thread reach every view in the order they were
 * published. A closed view receives nothing more and publishes nothing.
 */
public final class LoopbackBus {

  private final List<Node> nodes = new CopyOnWriteArrayList<>();

  /** A broker for one more node on this bus. */
  public Broker newBroker() {
    Node node = new Node();
    nodes.add(node);
    return node;
  }

  /** How many views are open. */
  public int size() {
    return nodes.size();
  }

  private final class Node implements Broker {
    private final InMemoryBroker inbox = new InMemoryBroker();
    private volatile boolean closed;

    @Override
    public void publish(HubEvent event) {
      Objects.requireNonNull(event, "event");
      if (closed) {
        return;
      }
      for (Node node : nodes) {
        node.inbox.publish(event);
      }
    }

    @Override
    public void subscribe(Consumer<HubEvent> receiver) {
      inbox.subscribe(receiver);
    }

    @Override
    public void close() {
      closed = true;
      nodes.remove(this);
      inbox.close();
    }
  }
}
