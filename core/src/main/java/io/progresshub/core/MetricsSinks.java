package io.progresshub.core;

import io.progresshub.core.spi.HubMetrics;
import java.util.Arrays;

/**
 * The hub's {@link HubMetrics}: the one given to its builder, and any attached later (the network
 * server attaches its own when it starts), each told of every figure. A volatile array read per
 * call; attaching copies it.
 */
final class MetricsSinks implements HubMetrics {
  private volatile HubMetrics[] sinks;

  MetricsSinks(HubMetrics first) {
    this.sinks = first == HubMetrics.NONE ? new HubMetrics[0] : new HubMetrics[] {first};
  }

  /** Adds {@code sink} unless it is already there (an instance given twice counts once). */
  synchronized void attach(HubMetrics sink) {
    for (HubMetrics existing : sinks) {
      if (existing == sink) {
        return;
      }
    }
    HubMetrics[] more = Arrays.copyOf(sinks, sinks.length + 1);
    more[sinks.length] = sink;
    sinks = more;
  }

  @Override
  public void eventStored(boolean transition, long storeNanos) {
    for (HubMetrics sink : sinks) {
      sink.eventStored(transition, storeNanos);
    }
  }

  @Override
  public void eventRefused(HubException.Code reason) {
    for (HubMetrics sink : sinks) {
      sink.eventRefused(reason);
    }
  }

  @Override
  public void staleSeqRetried() {
    for (HubMetrics sink : sinks) {
      sink.staleSeqRetried();
    }
  }

  @Override
  public void fannedOut(int subscribers) {
    for (HubMetrics sink : sinks) {
      sink.fannedOut(subscribers);
    }
  }

  @Override
  public void backfilled(int states) {
    for (HubMetrics sink : sinks) {
      sink.backfilled(states);
    }
  }

  @Override
  public void jobFinished(Job job) {
    for (HubMetrics sink : sinks) {
      sink.jobFinished(job);
    }
  }
}
