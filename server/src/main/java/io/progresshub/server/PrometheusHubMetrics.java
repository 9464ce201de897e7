package io.progresshub.server;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.spi.HubMetrics;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The server's metrics, served in the Prometheus format at {@code GET /metrics}. The server makes
 * its own unless given one; the hub reports its events to them once the server starts.
 *
 * <pre>{@code
 * PrometheusHubMetrics metrics =
 *     PrometheusHubMetrics.builder(config.metrics()).storePendingWrites(store::pendingWrites).build();
 * Hub hub = Hub.builder().store(store).build();
 * ProgressHubServer server = ProgressHubServer.start(config, hub, metrics);
 * }</pre>
 *
 * With {@link MetricsConfig.Access#OFF} no Prometheus registry is kept; the few figures the stats
 * endpoint shows are still counted. One instance serves one server. Thread-safe.
 */
public final class PrometheusHubMetrics implements HubMetrics {
  private final ServerMeters meters;

  private PrometheusHubMetrics(ServerMeters meters) {
    this.meters = meters;
  }

  /** Metrics as {@code config} says, without a store queue gauge. */
  public static PrometheusHubMetrics create(MetricsConfig config) {
    return builder(config).build();
  }

  public static Builder builder(MetricsConfig config) {
    return new Builder(config);
  }

  /** The meters behind this, for the server that serves them. */
  ServerMeters meters() {
    return meters;
  }

  @Override
  public void eventStored(boolean transition, long storeNanos) {
    meters.eventStored(transition, storeNanos);
  }

  @Override
  public void eventRefused(HubException.Code reason) {
    meters.eventRefused(reason);
  }

  @Override
  public void staleSeqRetried() {
    meters.staleSeqRetried();
  }

  @Override
  public void fannedOut(int subscribers) {
    // what was written is counted as it is written, per event loop
  }

  @Override
  public void backfilled(int states) {
    meters.backfilled(states);
  }

  @Override
  public void jobFinished(Job job) {
    meters.jobFinished(job);
  }

  /** Configures {@link PrometheusHubMetrics}. */
  public static final class Builder {
    private final MetricsConfig config;
    private LongSupplier storePendingWrites = () -> 0;

    private Builder(MetricsConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * The store's write queue depth, e.g. {@code SqliteJobStore::pendingWrites}, read on each
     * scrape; it must be cheap and never block. Default: always 0.
     */
    public Builder storePendingWrites(LongSupplier storePendingWrites) {
      this.storePendingWrites = Objects.requireNonNull(storePendingWrites, "storePendingWrites");
      return this;
    }

    public PrometheusHubMetrics build() {
      return new PrometheusHubMetrics(new ServerMeters(config.enabled(), storePendingWrites));
    }
  }
}
