package io.progresshub.server;

import java.time.Duration;

/**
 * WebSocket session behaviour.
 *
 * @param heartbeatInterval how often a ping frame and a JSON {@code heartbeat} are sent (default 25
 *     s); a connection silent for 2.5 intervals is closed. SSE streams send their heartbeat comment
 *     at the same interval (one {@code heartbeat-interval} setting serves both transports)
 * @param compression whether permessage-deflate is offered to clients that ask for it (default off:
 *     each compressing connection holds zlib state of several hundred KiB)
 * @param monitorInterval how often {@code /ws/monitor} gets a {@code system_status} (default 2 s)
 */
public record WebSocketConfig(
    Duration heartbeatInterval, boolean compression, Duration monitorInterval) {

  public WebSocketConfig {
    positive("heartbeatInterval", heartbeatInterval);
    positive("monitorInterval", monitorInterval);
  }

  /** With the default monitor interval. */
  public WebSocketConfig(Duration heartbeatInterval, boolean compression) {
    this(heartbeatInterval, compression, DEFAULT_MONITOR_INTERVAL);
  }

  private static final Duration DEFAULT_MONITOR_INTERVAL = Duration.ofSeconds(2);

  private static void positive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }

  public static WebSocketConfig defaults() {
    return new WebSocketConfig(Duration.ofSeconds(25), false);
  }

  public WebSocketConfig withHeartbeatInterval(Duration heartbeatInterval) {
    return new WebSocketConfig(heartbeatInterval, compression, monitorInterval);
  }

  public WebSocketConfig withCompression(boolean compression) {
    return new WebSocketConfig(heartbeatInterval, compression, monitorInterval);
  }

  public WebSocketConfig withMonitorInterval(Duration monitorInterval) {
    return new WebSocketConfig(heartbeatInterval, compression, monitorInterval);
  }

  /** Silence longer than this closes the connection: 2.5 heartbeat intervals. */
  public Duration idleTimeout() {
    return heartbeatInterval.multipliedBy(5).dividedBy(2);
  }
}
