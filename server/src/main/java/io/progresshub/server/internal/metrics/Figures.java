package io.progresshub.server.internal.metrics;

/**
 * Running totals of this node at one instant, cheap to take: two snapshots give rates ({@link
 * #ratesSince}).
 *
 * @param atNanos when it was taken ({@link System#nanoTime})
 * @param publishes events (and creates) the hub made durable since the server started
 * @param deliveries job states written to subscribers' sockets since the server started
 * @param storeCommitP50Ms median time the store took to make an event durable, over the last minute
 *     or so (0 before any)
 * @param storeCommitP99Ms its 99th percentile
 * @param storePendingWrites writes waiting for the store now (0 when the store does not say)
 */
public record Figures(
    long atNanos,
    long publishes,
    long deliveries,
    double storeCommitP50Ms,
    double storeCommitP99Ms,
    long storePendingWrites) {

  /**
   * Per-second rates between two snapshots.
   *
   * @param publishesPerSecond events made durable per second
   * @param deliveriesPerSecond job states written to subscribers per second
   */
  public record Rates(double publishesPerSecond, double deliveriesPerSecond) {
    public static final Rates ZERO = new Rates(0, 0);
  }

  /** The rates from {@code earlier} to this snapshot; zero when no time passed between them. */
  public Rates ratesSince(Figures earlier) {
    double seconds = (atNanos - earlier.atNanos) / 1e9;
    if (seconds <= 0) {
      return Rates.ZERO;
    }
    return new Rates(
        Math.max(0, publishes - earlier.publishes) / seconds,
        Math.max(0, deliveries - earlier.deliveries) / seconds);
  }
}
