package io.progresshub.client;

import java.time.Duration;

/**
 * Learns of a {@link ProgressSubscriber}'s connection coming and going, e.g. to show "reconnecting"
 * in a UI. Called on the subscriber's event thread: return quickly. Every method does nothing by
 * default.
 */
public interface ConnectionListener {

  /** The connection is open and authenticated; watched jobs are being resumed. */
  default void onConnected() {}

  /**
   * The connection was lost; another attempt follows after {@code retryIn}.
   *
   * @param closeCode the WebSocket close code, 1006 when the connection just dropped
   */
  default void onDisconnected(int closeCode, String reason, Duration retryIn) {}

  /** The subscriber gave up: a close code that forbids reconnecting, or too many failed tries. */
  default void onFailed(ProgressHubException error) {}
}
