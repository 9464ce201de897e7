package io.progresshub.core.spi;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;

/**
 * What a hub reports about its work, for a metrics system to record: a Micrometer or Prometheus
 * binding implements it in a module of its own, so that the core depends on none. Levels that are
 * sampled rather than counted come from the parts themselves: subscriptions and jobs per status
 * from {@code Hub.stats()}, queue depths from {@code InMemoryBroker.pendingEvents()} and {@code
 * SqliteJobStore.pendingWrites()}.
 *
 * <p>Contract: called on the hub's hot paths, from many threads at once (producers, the store's
 * writer, the broker's dispatcher): thread-safe, cheap, never blocking and never throwing. {@link
 * #NONE}, the default, records nothing.
 */
public interface HubMetrics {

  /** Records nothing. */
  HubMetrics NONE =
      new HubMetrics() {
        @Override
        public void eventStored(boolean transition, long storeNanos) {}

        @Override
        public void eventRefused(HubException.Code reason) {}

        @Override
        public void staleSeqRetried() {}

        @Override
        public void fannedOut(int subscribers) {}

        @Override
        public void backfilled(int states) {}
      };

  /**
   * A producer's event (or a create) became durable and was broadcast.
   *
   * @param transition whether it changed status or stage (else a progress tick)
   * @param storeNanos how long the store took to make it durable, from handing it over
   */
  void eventStored(boolean transition, long storeNanos);

  /** A producer's event (or a create) was refused, by the job's rules or by the store. */
  void eventRefused(HubException.Code reason);

  /** An event lost the race for its seq to another hub sharing the store, and is applied again. */
  void staleSeqRetried();

  /** A state the broker delivered was handed to this many of this hub's subscribers. */
  void fannedOut(int subscribers);

  /**
   * Subscribers of this hub got states from the store's history because those reached the hub after
   * a later one (written by different hubs, they crossed on the broker).
   */
  void backfilled(int states);

  /**
   * A job reached a terminal status on this hub (after {@link #eventStored}): a binding may record
   * its run time per type. Does nothing unless overridden.
   */
  default void jobFinished(Job job) {}
}
