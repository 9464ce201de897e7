package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.HubMetrics;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The heart of progress-hub: accepts job events, makes them durable, and fans them out to
 * subscribers in {@code seq} order. Transports (WebSocket, SSE, REST) and embedding applications
 * all go through it.
 *
 * <p>Publishing to one job is serialized; different jobs proceed in parallel. An event is broadcast
 * only once the store made it durable, so a subscriber never sees a {@code seq} that a crash could
 * take back. Thread-safe.
 *
 * <p>Several hubs may share one store and one {@link Broker} (a cluster): the store decides which
 * event gets each seq, a hub whose event lost that race applies it again on the stored state, and
 * subscribers on every hub get every state of the job in seq order whichever hub wrote it.
 *
 * <p>A facade over three parts: the producer path with its write cache ({@link JobWriter}), the
 * local subscriptions and their fan-out ({@link Subscriptions}), and the retention sweep ({@link
 * RetentionSweeper}).
 */
public final class Hub implements AutoCloseable {

  private final JobStore store;
  private final Broker broker;
  private final JobWriter writer;
  private final Subscriptions subscriptions;
  private final RepairRetries repairRetries = new RepairRetries(this::repair);
  private final RetentionSweeper retention;
  private final MetricsSinks metrics;
  private final List<Consumer<HubEvent>> observers = new CopyOnWriteArrayList<>();

  private Hub(Builder builder) {
    this.store = builder.store;
    this.broker = builder.broker;
    JobLimits limits = new JobLimits(builder.maxMetadataKeys, builder.maxJobStateBytes);
    this.metrics = new MetricsSinks(builder.metrics);
    JobInterest interest = new JobInterest(broker);
    this.writer = new JobWriter(store, broker, interest, builder.clock, limits, metrics);
    this.subscriptions =
        new Subscriptions(
            store,
            interest,
            writer::committed,
            builder.maxReplay,
            metrics,
            repairRetries::schedule);
    this.retention =
        new RetentionSweeper(
            store,
            broker,
            builder.clock,
            builder.monotonicClock,
            builder.retention,
            builder.retentionSweepInterval);
    broker.subscribe(this::receive);
    broker.onMissed(this::repair);
    retention.start();
  }

  /** A state another node (or this one) made durable: the cache learns it before subscribers. */
  private void receive(HubEvent event) {
    writer.observe(event);
    subscriptions.deliver(event);
    for (Consumer<HubEvent> observer : observers) {
      try {
        observer.accept(event);
      } catch (RuntimeException e) {
        // one broken observer must not stop the broker's delivery to the others
        System.getLogger(Hub.class.getName())
            .log(System.Logger.Level.WARNING, "a hub observer failed on " + event, e);
      }
    }
  }

  /**
   * The broker may have lost events of the job: its latest state is read from the store, for the
   * write cache and the subscribers alike (see {@link Broker#onMissed}).
   */
  private void repair(String jobId) {
    Optional<Job> stored;
    try {
      stored = store.find(jobId);
    } catch (RuntimeException e) {
      System.getLogger(Hub.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "cannot read job " + jobId + " to repair what this node may have missed of it",
              e);
      if (subscriptions.watches(jobId)) {
        repairRetries.schedule(jobId); // else its subscribers may never get what they missed
      }
      return;
    }
    writer.observe(
        stored
            .<HubEvent>map(job -> new HubEvent.JobUpdated(job, HubEvent.Change.STATUS))
            .orElseGet(() -> new HubEvent.JobRemoved(jobId)));
    subscriptions.resync(jobId, stored);
  }

  /**
   * Reports to {@code metrics} too, from now on, besides the builder's: how a server that starts on
   * a built hub gets its figures. An instance already reported to is not added twice.
   */
  public void reportTo(HubMetrics metrics) {
    this.metrics.attach(Objects.requireNonNull(metrics, "metrics"));
  }

  /**
   * Tells {@code observer} of every change the broker delivers to this hub, after its subscribers
   * got it: jobs created, updated ({@link HubEvent.Change} says how) and removed. On one node that
   * is every change; in a cluster, whatever the broker sends this node. For monitors and metrics:
   * called on the broker's delivery thread, so it must be quick, never block and never throw.
   *
   * @return stops the observing
   */
  public Runnable observe(Consumer<HubEvent> observer) {
    Objects.requireNonNull(observer, "observer");
    observers.add(observer);
    return () -> observers.remove(observer);
  }

  /** A builder with the defaults: in-memory store and broker, 24 h retention. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates a job; its first state (seq 1) is durable when this returns.
   *
   * @throws HubException {@code job_exists} if the id is taken, {@code payload_too_large} if its
   *     metadata breaks the job limits
   */
  public Job create(NewJob request) {
    return writer.create(request);
  }

  /**
   * Applies a producer's event and returns the job's new state once it is durable.
   *
   * @throws HubException {@code job_not_found}, {@code job_finished}, {@code job_cancelled}, {@code
   *     invalid_transition}, {@code invalid_request}, {@code payload_too_large} (the job's state
   *     would outgrow {@link Builder#maxMetadataKeys} or {@link Builder#maxJobStateBytes}), {@code
   *     store_unavailable} (with a retry-after hint when the store is only busy) or, when other
   *     hubs sharing the store write the job so fast that this event keeps losing the race for its
   *     seq, {@code rate_limited} with a retry-after hint
   */
  public Job publish(String jobId, JobUpdate update) {
    return JobWriter.await(publishAsync(jobId, update));
  }

  /**
   * Like {@link #publish} but returns at once; the future completes when the event is durable, or
   * exceptionally with a {@link HubException}. Validation errors are thrown at once.
   */
  public CompletableFuture<Job> publishAsync(String jobId, JobUpdate update) {
    JobIds.check(jobId);
    Objects.requireNonNull(update, "update");
    return writer.publish(jobId, update);
  }

  /** Moves the job to {@code cancelled}; its worker learns it from its next publish (409). */
  public Job cancel(String jobId) {
    return publish(jobId, JobUpdate.builder().status(JobStatus.CANCELLED).build());
  }

  /** The lifecycle calls for one job, as a worker inside the JVM makes them. */
  public JobLifecycle lifecycle(String jobId) {
    return new JobLifecycle(this, JobIds.check(jobId));
  }

  /** Deletes the job and its history; its subscribers are told. Returns whether it existed. */
  public boolean delete(String jobId) {
    JobIds.check(jobId);
    return writer.delete(jobId);
  }

  /** The job's latest durable state, read from the store; empty for an unknown or invalid id. */
  public Optional<Job> find(String jobId) {
    if (!JobIds.isValid(jobId)) {
      return Optional.empty();
    }
    return store.find(jobId);
  }

  /**
   * The job's latest durable state, from this hub's write cache while the job is live there.
   *
   * @throws HubException {@code job_not_found}
   */
  public Job get(String jobId) {
    JobIds.check(jobId);
    return writer.committed(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
  }

  /** One page of the jobs matching {@code query}, newest first, with how many match in all. */
  public JobPage list(JobQuery query) {
    return store.list(query);
  }

  /** History entries after {@code afterSeq}: every transition, the latest tick, in seq order. */
  public List<Job> history(String jobId, long afterSeq, int limit) {
    get(jobId);
    return store.history(jobId, afterSeq, limit);
  }

  /** How many jobs the store holds per status, and this node's subscriptions. */
  public HubStats stats() {
    return new HubStats(store.countByStatus(), subscriptions.count(), subscriptions.watchedJobs());
  }

  /**
   * Subscribes to one job. The subscriber first gets {@link Subscriber#onSubscribed}, then (when
   * {@code since} is given) every retained state after it, then the current state, then live
   * states; no seq twice, none missing between replay and live.
   *
   * @throws HubException {@code job_not_found}
   */
  public Subscription subscribe(String jobId, OptionalLong since, Subscriber subscriber) {
    JobIds.check(jobId);
    return subscriptions.subscribe(jobId, since, subscriber);
  }

  /**
   * Removes jobs that finished longer ago than the retention window; returns how many. Elapsed time
   * is measured on the monotonic clock, so a wall clock stepped forward deletes nothing early.
   */
  public int expireFinishedJobs() {
    return retention.expireFinishedJobs();
  }

  /** Stops the retention sweep, then closes the broker and flushes and closes the store. */
  @Override
  public void close() {
    repairRetries.close();
    retention.close();
    broker.close();
    store.close();
  }

  /** Configures a {@link Hub}. Defaults: in-memory store and broker, 24 h retention. */
  public static final class Builder {
    private JobStore store;
    private Broker broker;
    private Clock clock = Clock.systemUTC();
    private LongSupplier monotonicClock = System::nanoTime;
    private Duration retention = Duration.ofHours(24);
    private Duration retentionSweepInterval = Duration.ofMinutes(1);
    private int maxReplay = 10_000;
    private int maxMetadataKeys = JobLimits.DEFAULT.maxMetadataKeys();
    private int maxJobStateBytes = JobLimits.DEFAULT.maxStateBytes();
    private HubMetrics metrics = HubMetrics.NONE;

    private Builder() {}

    /** Where jobs and their history are kept. Default a new {@link InMemoryJobStore}. */
    public Builder store(JobStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * What carries durable changes to every node, this one included. Default a new {@link
     * InMemoryBroker}: one node alone.
     */
    public Builder broker(Broker broker) {
      this.broker = Objects.requireNonNull(broker, "broker");
      return this;
    }

    /** The wall clock: timestamps of events and finish times. Default UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * A monotonic clock in nanoseconds, like (and by default) {@link System#nanoTime}: retention
     * measures elapsed time with it, so that a step of the wall clock expires nothing early.
     */
    public Builder monotonicClock(LongSupplier nanoTime) {
      this.monotonicClock = Objects.requireNonNull(nanoTime, "nanoTime");
      return this;
    }

    /** How long finished jobs are kept, measured from when they finished. Default 24 h. */
    public Builder retention(Duration retention) {
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("retention: " + retention + " (expected: > 0)");
      }
      this.retention = retention;
      return this;
    }

    /** How often expired jobs are looked for; zero turns the sweep off. Default 1 min. */
    public Builder retentionSweepInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException(
            "retentionSweepInterval: " + interval + " (expected: >= 0)");
      }
      this.retentionSweepInterval = interval;
      return this;
    }

    /** Most history entries replayed to one subscriber; beyond it, only the current state. */
    public Builder maxReplay(int maxReplay) {
      if (maxReplay < 1) {
        throw new IllegalArgumentException("maxReplay: " + maxReplay + " (expected: >= 1)");
      }
      this.maxReplay = maxReplay;
      return this;
    }

    /**
     * Most top-level metadata keys of one job; an event or create that would add more is refused
     * with {@code payload_too_large}. Default 256.
     */
    public Builder maxMetadataKeys(int maxMetadataKeys) {
      if (maxMetadataKeys < 1) {
        throw new IllegalArgumentException(
            "maxMetadataKeys: " + maxMetadataKeys + " (expected: >= 1)");
      }
      this.maxMetadataKeys = maxMetadataKeys;
      return this;
    }

    /**
     * Most bytes of one job's metadata, result, error, message and stage together, as JSON text; an
     * event or create that would grow the state past it is refused with {@code payload_too_large}.
     * Default 65,536 (64 KiB).
     */
    public Builder maxJobStateBytes(int maxJobStateBytes) {
      if (maxJobStateBytes < 1) {
        throw new IllegalArgumentException(
            "maxJobStateBytes: " + maxJobStateBytes + " (expected: >= 1)");
      }
      this.maxJobStateBytes = maxJobStateBytes;
      return this;
    }

    /** Where the hub reports what it does (events stored, refused, fanned out...). Default none. */
    public Builder metrics(HubMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /** A hub with these settings; it starts its retention sweep (unless turned off) at once. */
    public Hub build() {
      if (store == null) {
        store = new InMemoryJobStore();
      }
      if (broker == null) {
        broker = new InMemoryBroker();
      }
      return new Hub(this);
    }
  }
}
