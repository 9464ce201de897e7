package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A {@link Broker} for one node: events go to this node's receiver on one dispatcher thread, so the
 * thread that made an event durable (the store's writer) is not held up by fan-out.
 */
public final class InMemoryBroker implements Broker {

  private static final System.Logger LOG = System.getLogger(InMemoryBroker.class.getName());

  private final ExecutorService dispatcher =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "progress-hub-dispatch");
            thread.setDaemon(true);
            return thread;
          });
  private volatile Consumer<HubEvent> receiver;

  @Override
  public void publish(HubEvent event) {
    Consumer<HubEvent> target = receiver;
    if (target == null || dispatcher.isShutdown()) {
      return;
    }
    try {
      dispatcher.execute(() -> deliver(target, event));
    } catch (RejectedExecutionException closing) {
      // Closed while publishing: nothing more is delivered, as the contract says.
    }
  }

  private static void deliver(Consumer<HubEvent> target, HubEvent event) {
    try {
      target.accept(event);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "receiver failed on " + event, e);
    }
  }

  @Override
  public void subscribe(Consumer<HubEvent> receiver) {
    this.receiver = Objects.requireNonNull(receiver, "receiver");
  }

  @Override
  public void close() {
    dispatcher.shutdown();
    try {
      dispatcher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
