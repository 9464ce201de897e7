package io.progresshub.server.internal.websocket;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

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

  /** Runs {@code action} for every session, each on its own event loop. */
  public void forEachMember(Consumer<HeartbeatWheel.Member> action) {
    wheels.forEach(
        (loop, wheel) -> {
          try {
            loop.execute(() -> wheel.forEach(action));
          } catch (RejectedExecutionException stopped) {
            // That loop is gone, and its connections with it.
          }
        });
  }

  /** How many sessions are on the wheels (read from any thread: may lag a little). */
  public int size() {
    int total = 0;
    for (HeartbeatWheel wheel : wheels.values()) {
      total += wheel.size();
    }
    return total;
  }
}
