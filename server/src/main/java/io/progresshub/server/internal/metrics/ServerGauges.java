package io.progresshub.server.internal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.progresshub.core.HubStats;
import io.progresshub.core.JobStatus;
import io.progresshub.server.internal.Connection;
import io.progresshub.server.internal.LoopWrites;
import io.progresshub.server.internal.ServerContext;
import java.time.Duration;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The meters that read the running server when scraped: connections per transport, the hub's
 * subscriptions and jobs, what the event loops wrote (summed from their {@link LoopWrites}), and
 * Netty's memory and task queues.
 */
final class ServerGauges {
  /** The hub's stats ask the store, and several gauges read them per scrape: kept this long. */
  private static final Duration STATS_MAX_AGE = Duration.ofSeconds(1);

  private final ServerContext context;
  private volatile CachedStats stats;

  private record CachedStats(HubStats stats, long atNanos) {}

  private ServerGauges(ServerContext context) {
    this.context = context;
  }

  /**
   * Registers them in {@code registry}; {@code replaysAbandoned} is added to the loops' overflows
   * as slow-consumer closes.
   */
  static void register(
      MeterRegistry registry,
      ServerContext context,
      EventLoopGroup loops,
      Counter replaysAbandoned) {
    ServerGauges gauges = new ServerGauges(context);
    for (Connection.Transport transport : Connection.Transport.values()) {
      Gauge.builder("progress_hub.connections", context, c -> open(c, transport))
          .description("Open client connections, by transport")
          .tag("transport", transport.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    // Micrometer holds a gauge's object weakly: nothing else holds this one, so it is held
    // strongly.
    Gauge.builder("progress_hub.subscriptions", gauges, g -> g.hubStats().subscriptions())
        .strongReference(true)
        .description("Live subscriptions on this node")
        .register(registry);
    Gauge.builder("progress_hub.watched.jobs", gauges, g -> g.hubStats().watchedJobs())
        .strongReference(true)
        .description("Jobs with at least one subscriber on this node")
        .register(registry);
    for (JobStatus status : JobStatus.values()) {
      Gauge.builder(
              "progress_hub.jobs",
              gauges,
              g -> g.hubStats().jobsByStatus().getOrDefault(status, 0L))
          .strongReference(true)
          .description("Jobs in the store, by status")
          .tag("status", status.wireName())
          .register(registry);
    }
    LoopWrites.PerLoop writes = context.writes();
    loopCounter(
        registry,
        "progress_hub.deliveries",
        "Job states written to subscribers' sockets",
        writes,
        w -> w.totals().deliveries());
    loopCounter(
        registry,
        "progress_hub.conflated",
        "Progress ticks replaced by a newer state before a slow subscriber could take them",
        writes,
        w -> w.totals().conflated());
    loopCounter(
        registry,
        "progress_hub.dropped",
        "Messages discarded unwritten because their connection closed, overflowed or went away",
        writes,
        w -> w.totals().dropped());
    FunctionCounter.builder(
            "progress_hub.slow.consumer.closes",
            writes,
            w -> w.totals().overflows() + replaysAbandoned.count())
        .description("Connections closed as slow consumers (WebSocket 4008, or SSE stream ended)")
        .register(registry);
    netty(registry, loops);
  }

  private static void loopCounter(
      MeterRegistry registry,
      String name,
      String description,
      LoopWrites.PerLoop writes,
      ToDoubleFunction<LoopWrites.PerLoop> total) {
    FunctionCounter.builder(name, writes, total).description(description).register(registry);
  }

  private static void netty(MeterRegistry registry, EventLoopGroup loops) {
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
      Gauge.builder(
              "progress_hub.netty.allocator.used.direct.memory",
              allocator,
              a -> a.metric().usedDirectMemory())
          .description("Direct memory held by Netty's buffer allocator")
          .baseUnit("bytes")
          .register(registry);
      Gauge.builder(
              "progress_hub.netty.allocator.used.heap.memory",
              allocator,
              a -> a.metric().usedHeapMemory())
          .description("Heap memory held by Netty's buffer allocator")
          .baseUnit("bytes")
          .register(registry);
    }
    Gauge.builder("progress_hub.netty.event.loop.pending.tasks", loops, ServerGauges::pendingTasks)
        .description("Tasks waiting in the event loops' queues, all loops together")
        .register(registry);
  }

  private static double pendingTasks(EventLoopGroup loops) {
    long pending = 0;
    for (EventExecutor loop : loops) {
      if (loop instanceof SingleThreadEventExecutor executor) {
        pending += executor.pendingTasks();
      }
    }
    return pending;
  }

  private static double open(ServerContext context, Connection.Transport transport) {
    int[] count = {0};
    context
        .connections()
        .forEach(
            connection -> {
              if (connection.transport() == transport) {
                count[0]++;
              }
            });
    return count[0];
  }

  private HubStats hubStats() {
    CachedStats cached = stats;
    long now = System.nanoTime();
    if (cached == null || now - cached.atNanos() > STATS_MAX_AGE.toNanos()) {
      cached = new CachedStats(context.hub().stats(), now);
      stats = cached;
    }
    return cached.stats();
  }
}
