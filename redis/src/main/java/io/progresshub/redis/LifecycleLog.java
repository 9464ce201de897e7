package io.progresshub.redis;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One node's reading of the lifecycle log ({@link RedisKeys#lifecycleLog}): every creation, status
 * change and removal goes out on the lifecycle channel headed by its log id, and is handed on here
 * in log order, once, whether it came live or was read back after the subscription was down.
 * Thread-safe.
 */
final class LifecycleLog {

  private static final System.Logger LOG = System.getLogger(LifecycleLog.class.getName());

  /** Entries read back per command. */
  static final int PAGE = 500;

  private final RedisKeys keys;
  private final RedisConnections.Commands redis;
  private final Consumer<String> handOn;
  private final BooleanSupplier closed;

  /** Guards {@link #cursor}: what is handed on, is handed on in log order. */
  private final Object order = new Object();

  /** Id of the last entry handed on. */
  private String cursor = LogIds.NONE;

  /**
   * @param handOn receives each message (without its id) once, in log order
   * @param closed whether to stop reading back
   */
  LifecycleLog(
      RedisKeys keys,
      RedisConnections.Commands redis,
      Consumer<String> handOn,
      BooleanSupplier closed) {
    this.keys = keys;
    this.redis = redis;
    this.handOn = handOn;
    this.closed = closed;
  }

  /** Starts after the newest entry: a node follows the log from when it opened. */
  void start() {
    List<StreamMessage<String, String>> newest =
        redis.sync().xrevrange(keys.lifecycleLog(), Range.unbounded(), Limit.create(0, 1));
    synchronized (order) {
      cursor = newest.isEmpty() ? LogIds.NONE : newest.getFirst().getId();
    }
  }

  /** A message from the lifecycle channel, {@code <log id>\n<event>}. */
  void live(String payload) {
    int idEnd = payload.indexOf('\n');
    if (idEnd < 0) {
      LOG.log(System.Logger.Level.WARNING, "skipped a lifecycle message without its log id");
      return;
    }
    try {
      handOn(payload.substring(0, idEnd), payload.substring(idEnd + 1));
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.WARNING, "skipped a lifecycle message: {0}", e.getMessage());
    }
  }

  /**
   * Reads the log past the last entry handed on, on {@code executor} (it waits for Redis): what
   * went out while the subscription was down, or before it was active. Entries trimmed from the log
   * meanwhile (it keeps about {@value RedisKeys#LIFECYCLE_LOG_LENGTH}) are gone; subscribers' jobs
   * are repaired from the store anyway.
   */
  void readMissed(Executor executor) {
    try {
      executor.execute(this::readMissed);
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void readMissed() {
    try {
      while (!closed.getAsBoolean()) {
        String from;
        synchronized (order) {
          from = cursor;
        }
        List<StreamMessage<String, String>> entries =
            redis
                .sync()
                .xrange(keys.lifecycleLog(), Range.create(from, "+"), Limit.create(0, PAGE));
        for (StreamMessage<String, String> entry : entries) {
          String message = entry.getBody().get("m");
          if (message != null) {
            handOn(entry.getId(), message);
          }
        }
        if (entries.size() < PAGE) {
          return;
        }
      }
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not read the lifecycle log back from Redis: {0}; the next reconnect tries again",
          e.toString());
    }
  }

  private void handOn(String id, String message) {
    synchronized (order) {
      if (LogIds.compare(id, cursor) <= 0) {
        return; // already handed on
      }
      cursor = id;
      handOn.accept(message);
    }
  }
}
