package io.progresshub.server.internal.websocket;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The {@link HeartbeatWheel} of each event loop of one server, made on first use. */
public final class HeartbeatWheels {
  private final Duration interval;
  private final Map<EventExecutor, HeartbeatWheel> wheels = new ConcurrentHashMap<>();

  public HeartbeatWheels(Duration interval) {
    this.interval = interval;
  }

  HeartbeatWheel of(EventExecutor loop) {
    return wheels.computeIfAbsent(loop, owner -> new HeartbeatWheel(owner, interval));
  }
}
