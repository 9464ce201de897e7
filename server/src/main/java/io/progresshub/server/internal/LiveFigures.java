package io.progresshub.server.internal;

/**
 * Running figures that the monitor stream and {@code /api/stats} show and that only the metrics
 * know: totals since start, read from any thread.
 */
public interface LiveFigures {

  /** No metrics: every figure reads zero. */
  LiveFigures NONE =
      new LiveFigures() {
        @Override
        public long deliveries() {
          return 0;
        }

        @Override
        public long storePendingWrites() {
          return 0;
        }

        @Override
        public double storeCommitMillisP99() {
          return 0;
        }
      };

  /** Messages written to subscribers since the server started. */
  long deliveries();

  /** Events handed to the store and not yet durable. */
  long storePendingWrites();

  /** The 99th percentile of the store's commit latency, recently. */
  double storeCommitMillisP99();
}
