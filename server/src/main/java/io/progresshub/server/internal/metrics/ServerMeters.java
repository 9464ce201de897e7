package io.progresshub.server.internal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.server.internal.ServerContext;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Every meter of one server, named {@code progress_hub_*} (docs/operations.md lists them), and the
 * live {@link Figures} read from the same sources.
 *
 * <p>Nothing here is touched per delivered message: deliveries, conflated ticks and drops are plain
 * fields of each event loop's {@link LoopWrites}, summed when read; what is counted here happens
 * once per event, per refusal or per connection at most. Levels (connections, jobs per status,
 * queue depths) are sampled when read ({@link ServerGauges}).
 *
 * <p>Without Prometheus (metrics off) the meters live in a private registry that nobody scrapes, so
 * that the figures of the stats endpoint and the monitor stream still move.
 */
public final class ServerMeters implements AutoCloseable {

  /** The limits whose refusals are counted as rate limiting. */
  public enum RateLimit {
    CONNECT_RATE,
    PUBLISH_RATE,
    COMMAND_RATE
  }

  /** The limits that refuse a connection. */
  public enum ConnectionLimit {
    /** Closed at accept: over the plain-HTTP cap or its address's cap. */
    ACCEPT,
    /** Over the total of WebSockets and SSE streams. */
    MAX_CONNECTIONS,
    PER_USER,
    PER_ADDRESS
  }

  /** The Prometheus text format's content type, the answer unless OpenMetrics is asked for. */
  public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  public static final String OPEN_METRICS =
      "application/openmetrics-text; version=1.0.0; charset=utf-8";

  /** The text a scrape answers, and its content type. */
  public record Scrape(String contentType, String body) {}

  /** Past this many job types, further ones are counted as {@code other}: a label per value. */
  static final int MAX_JOB_TYPES = 50;

  /** The first byte of a final WebSocket text frame. */
  private static final byte WEBSOCKET_TEXT_FRAME = (byte) 0x81;

  /** The shortest interval {@link #rates} measures over. */
  static final Duration RATE_WINDOW = Duration.ofSeconds(1);

  private final MeterRegistry registry;
  private final PrometheusMeterRegistry prometheus; // null when metrics are off
  private final LongSupplier storePendingWrites;
  private final Counter transitionsStored;
  private final Counter ticksStored;
  private final Timer storeCommit;
  private final Map<HubException.Code, Counter> refused = new EnumMap<>(HubException.Code.class);
  private final Counter staleSeqRetries;
  private final Counter backfilled;
  private final Counter authFailures;
  private final Map<RateLimit, Counter> rateLimited = new EnumMap<>(RateLimit.class);
  private final Map<ConnectionLimit, Counter> connectionsRefused =
      new EnumMap<>(ConnectionLimit.class);
  private final Counter replaysAbandoned;
  private final Timer publishToWrite;
  private final Set<String> jobTypes = ConcurrentHashMap.newKeySet();
  private JvmGcMetrics gc;
  private volatile ServerContext context;
  private final AtomicReference<Figures> rateBase = new AtomicReference<>();

  /**
   * @param scrapable whether to keep a Prometheus registry with the JVM's meters; else the meters
   *     only feed {@link #figures}
   * @param storePendingWrites the store's queue depth, 0 if it has none
   */
  public ServerMeters(boolean scrapable, LongSupplier storePendingWrites) {
    this.prometheus = scrapable ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
    this.registry = scrapable ? prometheus : new SimpleMeterRegistry();
    this.storePendingWrites = storePendingWrites;
    transitionsStored = stored("transition");
    ticksStored = stored("tick");
    storeCommit =
        Timer.builder("progress_hub.store.commit")
            .description("Time the store took to make an event durable")
            .serviceLevelObjectives(millis(0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000))
            .publishPercentiles(0.5, 0.99)
            .distributionStatisticExpiry(Duration.ofMinutes(1))
            .register(registry);
    for (HubException.Code code : HubException.Code.values()) {
      refused.put(
          code,
          Counter.builder("progress_hub.events.refused")
              .description("Events and creates refused, by reason (the error code)")
              .tag("reason", code.wireName())
              .register(registry));
    }
    staleSeqRetries =
        Counter.builder("progress_hub.stale.seq.retries")
            .description("Events applied again after another node took their seq")
            .register(registry);
    backfilled =
        Counter.builder("progress_hub.backfilled")
            .description("States read back from the store because they crossed on the broker")
            .register(registry);
    authFailures =
        Counter.builder("progress_hub.auth.failures")
            .description("Tokens refused: bad signature, expired, wrong claims")
            .register(registry);
    for (RateLimit limit : RateLimit.values()) {
      rateLimited.put(
          limit,
          Counter.builder("progress_hub.rate.limited")
              .description("Requests, connections and commands refused by a rate limit")
              .tag("limit", label(limit))
              .register(registry));
    }
    for (ConnectionLimit limit : ConnectionLimit.values()) {
      connectionsRefused.put(
          limit,
          Counter.builder("progress_hub.connections.refused")
              .description("Connections refused by a connection limit")
              .tag("limit", label(limit))
              .register(registry));
    }
    replaysAbandoned =
        Counter.builder("progress_hub.replays.abandoned")
            .description("Resumes closed 4008 because the client read the replay too slowly")
            .register(registry);
    publishToWrite =
        Timer.builder("progress_hub.publish.to.write")
            .description(
                "From an event's timestamp (as the hub applied it, before the store commit) to the"
                    + " write of its state into a subscriber's socket; sampled, ms precision")
            .serviceLevelObjectives(
                millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000))
            .register(registry);
    Gauge.builder("progress_hub.store.pending.writes", storePendingWrites::getAsLong)
        .description("Writes waiting for the store")
        .register(registry);
  }

  private Counter stored(String kind) {
    return Counter.builder("progress_hub.events.stored")
        .description("Events and creates made durable, by kind (transition or progress tick)")
        .tag("kind", kind)
        .register(registry);
  }

  /**
   * Adds the meters that read the running server ({@link ServerGauges}) and, when scrapable, the
   * JVM's. Once, when the server has started.
   */
  public void bind(ServerContext context, EventLoopGroup loops) {
    this.context = context;
    ServerGauges.register(registry, context, loops, replaysAbandoned);
    if (prometheus != null) {
      new JvmMemoryMetrics().bindTo(registry);
      gc = new JvmGcMetrics();
      gc.bindTo(registry);
      new JvmThreadMetrics().bindTo(registry);
      new ClassLoaderMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      new UptimeMetrics().bindTo(registry);
    }
  }

  // What the hub reports (see PrometheusHubMetrics).

  public void eventStored(boolean transition, long storeNanos) {
    (transition ? transitionsStored : ticksStored).increment();
    storeCommit.record(storeNanos, TimeUnit.NANOSECONDS);
  }

  public void eventRefused(HubException.Code reason) {
    refused.get(reason).increment();
  }

  public void staleSeqRetried() {
    staleSeqRetries.increment();
  }

  public void backfilled(int states) {
    backfilled.increment(states);
  }

  /** Records the run time of a finished job, by type (at most {@value #MAX_JOB_TYPES}). */
  public void jobFinished(Job job) {
    if (job.elapsedSeconds().isEmpty()) {
      return; // never started: nothing ran
    }
    Timer.builder("progress_hub.job.duration")
        .description("Run time of finished jobs (started to finished), by type and final status")
        .tags("type", jobType(job.type()), "status", job.status().wireName())
        .serviceLevelObjectives(
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            Duration.ofSeconds(15),
            Duration.ofSeconds(30),
            Duration.ofMinutes(1),
            Duration.ofMinutes(2),
            Duration.ofMinutes(5),
            Duration.ofMinutes(10),
            Duration.ofMinutes(30),
            Duration.ofHours(1),
            Duration.ofHours(2),
            Duration.ofHours(6),
            Duration.ofHours(24))
        .register(registry)
        .record((long) (job.elapsedSeconds().getAsDouble() * 1000), TimeUnit.MILLISECONDS);
  }

  /**
   * The label of a job type: producers choose types freely, and every label value is a series that
   * Prometheus keeps, so past {@value #MAX_JOB_TYPES} types the rest share {@code other}.
   */
  private String jobType(String type) {
    String label =
        type == null || type.isEmpty() ? "none" : type.substring(0, Math.min(type.length(), 64));
    if (jobTypes.contains(label)) {
      return label;
    }
    if (jobTypes.size() >= MAX_JOB_TYPES) {
      return "other";
    }
    jobTypes.add(label);
    return label;
  }

  // What the transports report.

  public void authFailed() {
    authFailures.increment();
  }

  public void rateLimited(RateLimit limit) {
    rateLimited.get(limit).increment();
  }

  public void connectionRefused(ConnectionLimit limit) {
    connectionsRefused.get(limit).increment();
  }

  /** A resume was abandoned: its connection is closed as a slow consumer. Any thread. */
  public void replayAbandoned() {
    replaysAbandoned.increment();
  }

  /**
   * Times one live state from its timestamp to now, as it is written; called for a sample of the
   * writes, on an event loop.
   */
  public void sampleWrite(ByteBuf frame) {
    if (frame.getByte(frame.readerIndex()) != WEBSOCKET_TEXT_FRAME) {
      return; // an SSE event: its replayed states carry no replay flag to tell them from live ones
    }
    long timestamp = FrameTimestamps.epochMillis(frame);
    if (timestamp > 0) {
      long elapsed = System.currentTimeMillis() - timestamp;
      if (elapsed >= 0) {
        publishToWrite.record(elapsed, TimeUnit.MILLISECONDS);
      }
    }
  }

  /** The running totals now: for rates on the stats endpoint and the monitor stream. */
  public Figures figures() {
    ServerContext bound = context;
    long deliveries = bound == null ? 0 : bound.writes().totals().deliveries();
    double p50 = 0;
    double p99 = 0;
    for (ValueAtPercentile value : storeCommit.takeSnapshot().percentileValues()) {
      if (value.percentile() == 0.5) {
        p50 = value.value(TimeUnit.MILLISECONDS);
      } else if (value.percentile() == 0.99) {
        p99 = value.value(TimeUnit.MILLISECONDS);
      }
    }
    return new Figures(
        System.nanoTime(),
        (long) (transitionsStored.count() + ticksStored.count()),
        deliveries,
        p50,
        p99,
        storePendingWrites.getAsLong());
  }

  /**
   * Publishes and deliveries per second since a base snapshot that an earlier call took (zero on
   * the first call); the base moves to now once it is {@link #RATE_WINDOW} old, so a caller every
   * couple of seconds (the monitor stream) gets the rate over its last interval. Thread-safe.
   */
  public Figures.Rates rates() {
    Figures now = figures();
    Figures base = rateBase.get();
    if (base == null) {
      rateBase.compareAndSet(null, now);
      return Figures.Rates.ZERO;
    }
    if (now.atNanos() - base.atNanos() >= RATE_WINDOW.toNanos()) {
      rateBase.compareAndSet(base, now);
    }
    return now.ratesSince(base);
  }

  /** Whether {@link #scrape} has anything to say (metrics are on). */
  public boolean scrapable() {
    return prometheus != null;
  }

  /**
   * The meters in the Prometheus text format, or OpenMetrics when {@code accept} asks for it.
   *
   * @throws IllegalStateException when metrics are off
   */
  public Scrape scrape(Optional<String> accept) {
    if (prometheus == null) {
      throw new IllegalStateException("metrics are off");
    }
    String type =
        accept.filter(a -> a.contains("application/openmetrics-text")).isPresent()
            ? OPEN_METRICS
            : PROMETHEUS_TEXT;
    return new Scrape(type, prometheus.scrape(type));
  }

  @Override
  public void close() {
    if (gc != null) {
      gc.close();
    }
    registry.close();
  }

  private static String label(Enum<?> limit) {
    return limit.name().toLowerCase(Locale.ROOT);
  }

  private static Duration[] millis(double... values) {
    Duration[] durations = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      durations[i] = Duration.ofNanos((long) (values[i] * 1_000_000));
    }
    return durations;
  }
}
