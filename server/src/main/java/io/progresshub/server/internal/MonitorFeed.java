package io.progresshub.server.internal;

import io.progresshub.core.Hub;
import io.progresshub.core.HubEvent;
import io.progresshub.core.HubStats;
import io.progresshub.core.Job;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.protocol.WireCodec;
import io.progresshub.server.internal.metrics.Figures;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The system stream of {@code /ws/monitor}: every {@code interval} a {@code system_status} with
 * what the hub holds and this node does, and at once a {@code job_created} or {@code job_status}
 * for every job created or changing status that this node learns of. Each message is encoded once
 * for all monitors; each monitor's {@link Outbox} bounds what it may fall behind (4008 past it).
 *
 * <p>Costs nothing while no monitor is open: the hub observer returns at once, and the status is
 * not computed.
 */
public final class MonitorFeed implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MonitorFeed.class);

  /** A monitor connection: takes a complete WebSocket text frame, shared with the others. */
  public interface Watcher {
    void send(byte[] frame);
  }

  private final Hub hub;
  private final Connections connections;
  private final Supplier<Figures> figures;
  private final WireCodec codec;
  private final Clock clock;
  private final Duration interval;
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;
  private final Runnable stopObserving;

  /** The totals at the last two ticks, for the rates; timer thread only. */
  private Figures last;

  private Figures previous;

  public MonitorFeed(
      Hub hub,
      Connections connections,
      Supplier<Figures> figures,
      WireCodec codec,
      Clock clock,
      Duration interval) {
    this.hub = hub;
    this.connections = connections;
    this.figures = figures;
    this.codec = codec;
    this.clock = clock;
    this.interval = interval;
    this.last = figures.get();
    this.previous = last;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            runnable ->
                Thread.ofPlatform().daemon().name("progress-hub-monitor").unstarted(runnable));
    this.stopObserving = hub.observe(this::observed);
    long millis = interval.toMillis();
    timer.scheduleWithFixedDelay(this::tick, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Starts sending to {@code watcher}, beginning with a status at once. */
  public void join(Watcher watcher) {
    watchers.add(watcher);
    timer.execute(() -> watcher.send(frame(status(last, last.ratesSince(previous)))));
  }

  public void leave(Watcher watcher) {
    watchers.remove(watcher);
  }

  /** How many monitors are open. */
  public int size() {
    return watchers.size();
  }

  /** On the broker's delivery thread: must be quick. */
  private void observed(HubEvent event) {
    if (watchers.isEmpty()
        || !(event instanceof HubEvent.JobUpdated updated)
        || (updated.change() != HubEvent.Change.CREATED
            && updated.change() != HubEvent.Change.STATUS)) {
      return;
    }
    Job job = updated.job();
    byte[] frame =
        frame(
            new ServerMessage.JobChanged(
                updated.change() == HubEvent.Change.CREATED,
                job.id(),
                job.status().wireName(),
                job.seq(),
                job.owner(),
                job.type(),
                job.progress(),
                job.stage(),
                job.updatedAt()));
    for (Watcher watcher : watchers) {
      watcher.send(frame);
    }
  }

  private void tick() {
    try {
      Figures now = figures.get();
      previous = last;
      last = now;
      if (!watchers.isEmpty()) {
        byte[] frame = frame(status(now, now.ratesSince(previous)));
        for (Watcher watcher : watchers) {
          watcher.send(frame);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("monitor status failed", e); // the store may be away; the next tick tries again
    }
  }

  private ServerMessage.SystemStatus status(Figures figures, Figures.Rates rates) {
    HubStats stats = hub.stats();
    return new ServerMessage.SystemStatus(
        clock.instant(),
        stats.jobsByWireName(),
        connections.size(),
        stats.subscriptions(),
        stats.watchedJobs(),
        rates.publishesPerSecond(),
        rates.deliveriesPerSecond(),
        figures.storePendingWrites(),
        figures.storeCommitP99Ms());
  }

  private byte[] frame(ServerMessage message) {
    return WebSocketFrames.text(codec.encode(message));
  }

  @Override
  public void close() {
    stopObserving.run();
    timer.shutdownNow();
    watchers.clear();
  }
}
