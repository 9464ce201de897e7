package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The heart of progress-hub: accepts job events, makes them durable, and fans them out to
 * subscribers in {@code seq} order. Transports (WebSocket, SSE, REST) and embedding applications
 * all go through it.
 *
 * <p>Publishing to one job is serialized; different jobs proceed in parallel. An event is broadcast
 * only once the store made it durable, so a subscriber never sees a {@code seq} that a crash could
 * take back. Thread-safe.
 */
public final class Hub implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Hub.class.getName());

  /** Producer retries arrive soon after the original; older ids are looked up in the store. */
  private static final int RECENT_EVENT_IDS_PER_JOB = 256;

  /** Replayed states handed to a subscriber before it is asked whether it can take more. */
  static final int REPLAY_PAGE = 64;

  /** Live states buffered during a replay before ticks among them are conflated. */
  private static final int BUFFERED_TICKS_KEPT = 4096;

  /** How far the wall clock may run ahead of the elapsed time before the sweep says so. */
  private static final Duration CLOCK_JUMP_WORTH_A_WARNING = Duration.ofMinutes(1);

  private final JobStore store;
  private final Broker broker;
  private final Clock clock;
  private final LongSupplier monotonicClock;
  private final Instant startedAt;
  private final long startedAtNanos;
  private final AtomicLong reportedClockLead = new AtomicLong();
  private final Duration retention;
  private final int maxReplay;
  private final JobLimits limits;
  private final ScheduledExecutorService sweeper;

  /** Jobs that are not finished, with their latest accepted state; loaded from the store. */
  private final ConcurrentHashMap<String, JobEntry> entries = new ConcurrentHashMap<>();

  /** Local subscriptions per job id. */
  private final ConcurrentHashMap<String, Set<HubSubscription>> topics = new ConcurrentHashMap<>();

  private Hub(Builder builder) {
    this.store = builder.store;
    this.broker = builder.broker;
    this.clock = builder.clock;
    this.monotonicClock = builder.monotonicClock;
    this.startedAt = clock.instant();
    this.startedAtNanos = monotonicClock.getAsLong();
    this.retention = builder.retention;
    this.maxReplay = builder.maxReplay;
    this.limits = new JobLimits(builder.maxMetadataKeys, builder.maxJobStateBytes);
    broker.subscribe(this::receive);
    if (builder.retentionSweepInterval.isZero()) {
      this.sweeper = null;
    } else {
      this.sweeper =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "progress-hub-retention");
                thread.setDaemon(true);
                return thread;
              });
      long every = builder.retentionSweepInterval.toMillis();
      sweeper.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- producers

  /**
   * Creates a job; its first state (seq 1) is durable when this returns.
   *
   * @throws HubException {@code job_exists} if the id is taken, {@code payload_too_large} if its
   *     metadata breaks the job limits
   */
  public Job create(NewJob request) {
    String id = request.id().orElseGet(JobIds::generate);
    Job job = JobRules.created(request, id, clock.instant(), limits);
    JobEntry entry = new JobEntry(job);
    entry.lock.lock();
    try {
      if (entries.putIfAbsent(id, entry) != null || store.find(id).isPresent()) {
        entries.remove(id, entry);
        entry.valid = false;
        throw HubException.jobExists(id);
      }
      return await(append(entry, new StoredEvent(job, true, Optional.empty())));
    } catch (HubException e) {
      entries.remove(id, entry);
      entry.valid = false;
      throw e;
    } finally {
      entry.lock.unlock();
    }
  }

  /**
   * Applies a producer's event and returns the job's new state once it is durable.
   *
   * @throws HubException {@code job_not_found}, {@code job_finished}, {@code job_cancelled}, {@code
   *     invalid_transition}, {@code invalid_request}, {@code payload_too_large} (the job's state
   *     would outgrow {@link Builder#maxMetadataKeys} or {@link Builder#maxJobStateBytes}) or
   *     {@code store_unavailable} (with a retry-after hint when the store is only busy)
   */
  public Job publish(String jobId, JobUpdate update) {
    return await(publishAsync(jobId, update));
  }

  /**
   * Like {@link #publish} but returns at once; the future completes when the event is durable, or
   * exceptionally with a {@link HubException}. Validation errors are thrown at once.
   */
  public CompletableFuture<Job> publishAsync(String jobId, JobUpdate update) {
    JobIds.check(jobId);
    Objects.requireNonNull(update, "update");
    while (true) {
      JobEntry entry = entry(jobId);
      entry.lock.lock();
      try {
        if (!entry.valid) {
          continue; // replaced while we waited for the lock: load again
        }
        Optional<String> eventId = update.eventId();
        if (eventId.isPresent()) {
          CompletableFuture<Job> seen = entry.recentEventIds.get(eventId.get());
          if (seen != null) {
            return seen.copy();
          }
          Optional<Job> stored = store.findByEventId(jobId, eventId.get());
          if (stored.isPresent()) {
            return CompletableFuture.completedFuture(stored.get());
          }
        }
        Job previous = entry.state;
        Job next = JobRules.apply(previous, update, clock.instant(), limits);
        entry.state = next;
        CompletableFuture<Job> durable =
            append(entry, new StoredEvent(next, JobRules.isTransition(previous, next), eventId));
        eventId.ifPresent(id -> entry.recentEventIds.put(id, durable));
        return durable.copy();
      } finally {
        entry.lock.unlock();
      }
    }
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
    JobEntry entry = entries.remove(jobId);
    if (entry != null) {
      entry.valid = false;
    }
    boolean existed = await(store.delete(jobId));
    if (existed) {
      broker.publish(new HubEvent.JobRemoved(jobId));
    }
    return existed;
  }

  // ---------------------------------------------------------------- readers

  public Optional<Job> find(String jobId) {
    if (!JobIds.isValid(jobId)) {
      return Optional.empty();
    }
    return store.find(jobId);
  }

  /**
   * @throws HubException {@code job_not_found}
   */
  public Job get(String jobId) {
    JobIds.check(jobId);
    return committed(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
  }

  /**
   * The job's latest durable state: from the cache while the job is live and cached (a subscribe
   * storm then costs no store reads), else from the store.
   */
  private Optional<Job> committed(String jobId) {
    JobEntry entry = entries.get(jobId);
    if (entry != null && entry.valid) {
      Job committed = entry.committed;
      if (committed != null) {
        return Optional.of(committed);
      }
    }
    return store.find(jobId);
  }

  public JobPage list(JobQuery query) {
    return store.list(query);
  }

  /** History entries after {@code afterSeq}: every transition, the latest tick, in seq order. */
  public List<Job> history(String jobId, long afterSeq, int limit) {
    get(jobId);
    return store.history(jobId, afterSeq, limit);
  }

  public HubStats stats() {
    long subscriptions = 0;
    for (Set<HubSubscription> subscribers : topics.values()) {
      subscriptions += subscribers.size();
    }
    return new HubStats(store.countByStatus(), subscriptions, topics.size());
  }

  // ---------------------------------------------------------------- subscribers

  /**
   * Subscribes to one job. The subscriber first gets {@link Subscriber#onSubscribed}, then (when
   * {@code since} is given) every retained state after it, then the current state, then live
   * states; no seq twice, none missing between replay and live.
   *
   * @throws HubException {@code job_not_found}
   */
  public Subscription subscribe(String jobId, OptionalLong since, Subscriber subscriber) {
    JobIds.check(jobId);
    HubSubscription subscription = new HubSubscription(jobId, subscriber);
    // Register first and read after: a state committed meanwhile is either read or buffered.
    topics.compute(
        jobId,
        (id, set) -> {
          Set<HubSubscription> target = set != null ? set : ConcurrentHashMap.newKeySet();
          target.add(subscription);
          return target;
        });
    try {
      Job current = committed(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
      List<Job> replay = List.of();
      boolean recovered = false;
      if (since.isPresent() && since.getAsLong() <= current.seq()) {
        replay = store.history(jobId, since.getAsLong(), maxReplay + 1);
        recovered = replay.size() <= maxReplay;
        if (!recovered) {
          replay = List.of();
        } else if (!replay.isEmpty() && replay.get(replay.size() - 1).seq() > current.seq()) {
          // An event committed between the two reads: announce the newest state we will send.
          current = replay.get(replay.size() - 1);
        }
      }
      // A recovered subscriber already has everything up to its since: not even the state at
      // exactly since is sent again (a resume at the current seq gets `subscribed` alone).
      subscription.start(current, recovered, recovered ? since.getAsLong() : 0, replay);
      return subscription;
    } catch (RuntimeException | Error e) {
      subscription.close(); // else it stays registered, buffering live states for nobody
      throw e;
    }
  }

  // ---------------------------------------------------------------- retention

  /**
   * Removes jobs that finished longer ago than the retention window; returns how many. Elapsed time
   * is measured on the monotonic clock, so a wall clock stepped forward deletes nothing early.
   */
  public int expireFinishedJobs() {
    List<String> expired = store.deleteFinishedBefore(retentionNow().minus(retention));
    for (String jobId : expired) {
      broker.publish(new HubEvent.JobRemoved(jobId));
    }
    return expired.size();
  }

  /**
   * The wall clock, but never later than this hub's start plus the time elapsed since on the
   * monotonic clock. Finish times are wall-clock instants; a wall clock stepped forward by the
   * retention (an operator, a VM resumed from a snapshot, a bad time source) would otherwise make
   * every finished job look expired at once, and the next sweep would delete acknowledged history
   * early. Stepped back, the wall clock is the earlier one and wins: jobs are then kept longer,
   * never shorter. Only a restart after a jump, with no elapsed time to compare, trusts it again.
   */
  private Instant retentionNow() {
    Instant wall = clock.instant();
    Instant elapsed = startedAt.plusNanos(monotonicClock.getAsLong() - startedAtNanos);
    if (!wall.isAfter(elapsed)) {
      return wall;
    }
    long lead = Duration.between(elapsed, wall).toNanos();
    long reported = reportedClockLead.get();
    if (Math.abs(lead - reported) > CLOCK_JUMP_WORTH_A_WARNING.toNanos()
        && reportedClockLead.compareAndSet(reported, lead)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "the wall clock is {0} ahead of the time elapsed since this hub started; finished jobs"
              + " expire by the elapsed time",
          Duration.ofNanos(lead));
    }
    return elapsed;
  }

  private void sweepQuietly() {
    try {
      int removed = expireFinishedJobs();
      if (removed > 0) {
        LOG.log(System.Logger.Level.INFO, "retention removed {0} finished jobs", removed);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "retention sweep failed", e);
    }
  }

  /** Stops the retention sweep, then closes the broker and flushes and closes the store. */
  @Override
  public void close() {
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
    broker.close();
    store.close();
  }

  // ---------------------------------------------------------------- internals

  private JobEntry entry(String jobId) {
    JobEntry cached = entries.get(jobId);
    if (cached != null) {
      return cached;
    }
    Job stored = store.find(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
    JobEntry loaded = new JobEntry(stored);
    loaded.committed = stored; // it came from the store: durable
    if (stored.isTerminal()) {
      return loaded; // every event on it is refused; no need to keep it
    }
    JobEntry raced = entries.putIfAbsent(jobId, loaded);
    return raced != null ? raced : loaded;
  }

  /**
   * Hands the event to the store. Called under the entry's lock, so callbacks are registered in seq
   * order and run in commit order: the broker sees a job's states in order.
   */
  private CompletableFuture<Job> append(JobEntry entry, StoredEvent event) {
    CompletableFuture<Void> durable;
    try {
      durable = store.append(event);
    } catch (RuntimeException e) {
      durable = CompletableFuture.failedFuture(e);
    }
    Job job = event.job();
    return durable.handle(
        (ignored, failure) -> {
          if (failure != null) {
            // The cached state is ahead of the store now: forget it, reload on next use.
            entry.valid = false;
            entries.remove(job.id(), entry);
            throw asHubException(failure);
          }
          if (job.isTerminal()) {
            entries.remove(job.id(), entry);
          }
          entry.commit(job); // before the broadcast: a subscriber reading it is then not behind
          broker.publish(new HubEvent.JobUpdated(job, event.transition()));
          return job;
        });
  }

  private void receive(HubEvent event) {
    Set<HubSubscription> subscribers = topics.get(event.jobId());
    if (subscribers == null) {
      return;
    }
    switch (event) {
      case HubEvent.JobUpdated updated -> {
        for (HubSubscription subscription : subscribers) {
          try {
            subscription.live(updated.job(), updated.transition());
          } catch (Throwable e) {
            failed(subscription, updated.job().seq(), e);
          }
        }
      }
      case HubEvent.JobRemoved removed -> {
        for (HubSubscription subscription : subscribers) {
          try {
            subscription.removed();
          } catch (Throwable e) {
            failed(subscription, -1, e);
          }
        }
      }
    }
  }

  /**
   * One subscriber's failure is its own: the others of the job still get the state. Errors too: an
   * OutOfMemoryError from one connection's direct buffers must not silence every other one. The
   * failed subscriber keeps its subscription; its next state is complete on its own.
   */
  private static void failed(HubSubscription subscription, long seq, Throwable e) {
    try {
      LOG.log(
          System.Logger.Level.ERROR,
          "subscriber of job " + subscription.jobId() + " failed on seq " + seq,
          e);
    } catch (Throwable ignored) {
      // Out of memory even for the log line: delivery to the others matters more.
    }
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      throw asHubException(e.getCause());
    }
  }

  private static HubException asHubException(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HubException hubException) {
      return hubException;
    }
    return HubException.unavailable("store failed: " + cause, cause);
  }

  /**
   * One unfinished job: its latest accepted state (guarded by the lock) and its latest durable one
   * (read without the lock).
   */
  private static final class JobEntry {
    final ReentrantLock lock = new ReentrantLock();
    Job state;
    volatile Job committed;
    volatile boolean valid = true;
    final Map<String, CompletableFuture<Job>> recentEventIds =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<Job>> eldest) {
            return size() > RECENT_EVENT_IDS_PER_JOB;
          }
        };

    JobEntry(Job state) {
      this.state = state;
    }

    /** A state became durable; callbacks run in commit order, but never let it go backwards. */
    void commit(Job job) {
      Job previous = committed;
      if (previous == null || previous.seq() < job.seq()) {
        committed = job;
      }
    }
  }

  /**
   * One subscriber's view of a job: buffers live states until the replay is delivered. Guarded by
   * its own monitor rather than a lock object: there is one per subscriber (tens of thousands), and
   * it is only ever held for a moment.
   */
  private final class HubSubscription implements Subscription {
    private final String jobId;
    private final Subscriber subscriber;
    private List<HubEvent.JobUpdated> buffered = new ArrayList<>();
    private long lastSeq;
    private volatile boolean closed;

    HubSubscription(String jobId, Subscriber subscriber) {
      this.jobId = jobId;
      this.subscriber = Objects.requireNonNull(subscriber, "subscriber");
    }

    @Override
    public String jobId() {
      return jobId;
    }

    void start(Job current, boolean recovered, long alreadyHas, List<Job> replay) {
      synchronized (this) {
        if (closed) {
          return;
        }
        lastSeq = alreadyHas;
        subscriber.onSubscribed(current, recovered);
      }
      // Page by page, outside the monitor: the subscriber may wait for its client between pages,
      // and live states must not wait with it (they are buffered meanwhile, see live).
      for (int from = 0; from < replay.size(); from += REPLAY_PAGE) {
        if (from > 0 && !subscriber.awaitReplayDemand()) {
          close();
          return;
        }
        synchronized (this) {
          if (closed) {
            return;
          }
          for (Job job : replay.subList(from, Math.min(replay.size(), from + REPLAY_PAGE))) {
            deliver(job, true, true);
          }
        }
      }
      synchronized (this) {
        if (closed) {
          return;
        }
        if (lastSeq < current.seq()) {
          deliver(current, true, true);
        } else if (!recovered) {
          // The client is ahead of us (store was reset): it gets the current state all the same.
          subscriber.onJob(current, true, true);
          lastSeq = current.seq();
        }
        for (HubEvent.JobUpdated update : buffered) {
          deliver(update.job(), false, update.transition());
        }
        buffered = null;
      }
    }

    void live(Job job, boolean transition) {
      synchronized (this) {
        if (closed) {
          return;
        }
        if (buffered != null) {
          int last = buffered.size() - 1;
          if (!transition && last >= BUFFERED_TICKS_KEPT && !buffered.get(last).transition()) {
            // A long replay to a slow client: a newer tick replaces the one before it, so the
            // buffer grows with transitions only, not with every tick.
            buffered.set(last, new HubEvent.JobUpdated(job, false));
          } else {
            buffered.add(new HubEvent.JobUpdated(job, transition));
          }
        } else {
          deliver(job, false, transition);
        }
      }
    }

    void removed() {
      synchronized (this) {
        if (closed) {
          return;
        }
        close();
        subscriber.onRemoved(jobId);
      }
    }

    private void deliver(Job job, boolean replay, boolean transition) {
      if (job.seq() <= lastSeq) {
        return;
      }
      lastSeq = job.seq();
      subscriber.onJob(job, replay, transition);
    }

    @Override
    public void close() {
      closed = true;
      topics.computeIfPresent(
          jobId,
          (id, set) -> {
            set.remove(this);
            return set.isEmpty() ? null : set;
          });
    }
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

    private Builder() {}

    public Builder store(JobStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

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
