package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.HubMetrics;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The producer path: turns creates, events and deletes into durable states, and broadcasts each one
 * once the store made it durable. Keeps the latest state of every unfinished job it writes (a write
 * cache), so that an event is applied without reading the store first. Thread-safe.
 *
 * <p>The cache is only a guess when other nodes write the same jobs through a shared store: the
 * store decides which event gets a seq (compare-and-append), and answers {@code stale_seq} to one
 * built on a state that another node changed first. The writer then reloads the job from the store
 * and applies the event again, with every event of the job that was pipelined behind it, in the
 * order they were published; events published meanwhile wait behind them. Its producer never sees
 * the race, unless its event loses it {@value #MAX_STALE_RETRIES} times in a row.
 */
final class JobWriter {

  /** Producer retries arrive soon after the original; older ids are looked up in the store. */
  private static final int RECENT_EVENT_IDS_PER_JOB = 256;

  /**
   * How often one event may lose the race for its seq before its producer is told to back off.
   * Every loss means another node's event landed, so only a job written far faster elsewhere gets
   * there; without a bound, such a producer would wait without end.
   */
  static final int MAX_STALE_RETRIES = 64;

  /** What a producer whose event kept losing the race is told to wait. */
  private static final Duration CONTENDED_RETRY_AFTER = Duration.ofSeconds(1);

  private final JobStore store;
  private final Broker broker;
  private final Clock clock;
  private final JobLimits limits;
  private final HubMetrics metrics;

  /** Jobs that are not finished, with their latest accepted state; loaded from the store. */
  private final ConcurrentHashMap<String, JobEntry> entries = new ConcurrentHashMap<>();

  JobWriter(JobStore store, Broker broker, Clock clock, JobLimits limits, HubMetrics metrics) {
    this.store = store;
    this.broker = broker;
    this.clock = clock;
    this.limits = limits;
    this.metrics = metrics;
  }

  /** See {@link Hub#create}. */
  Job create(NewJob request) {
    String id = request.id().orElseGet(JobIds::generate);
    Job job = JobRules.created(request, id, clock.instant(), limits);
    JobEntry entry = new JobEntry(id, job);
    entry.lock.lock();
    try {
      if (entries.putIfAbsent(id, entry) != null || store.find(id).isPresent()) {
        entries.remove(id, entry);
        entry.valid = false;
        throw HubException.jobExists(id);
      }
      long handedOver = System.nanoTime();
      CompletableFuture<Void> durable;
      try {
        durable = store.append(new StoredEvent(job, true, Optional.empty()));
      } catch (RuntimeException e) {
        durable = CompletableFuture.failedFuture(e);
      }
      // Waits under the lock, so no event of the job is applied before its creation is durable.
      await(durable);
      metrics.eventStored(true, System.nanoTime() - handedOver);
      if (job.isTerminal()) {
        entries.remove(id, entry);
      }
      entry.commit(job);
      broker.publish(new HubEvent.JobUpdated(job, HubEvent.Change.CREATED));
      return job;
    } catch (HubException e) {
      invalidate(entry);
      metrics.eventRefused(e.reason());
      throw e;
    } finally {
      entry.lock.unlock();
    }
  }

  /** See {@link Hub#publishAsync}. */
  CompletableFuture<Job> publish(String jobId, JobUpdate update) {
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
        Pending pending = new Pending(entry.published++, update);
        if (entry.rebasing) {
          entry.waiting.add(pending); // after the events being applied again: in publish order
        } else {
          try {
            submitChecked(entry, pending);
          } catch (HubException refused) {
            metrics.eventRefused(refused.reason());
            throw refused;
          }
        }
        if (eventId.isPresent() && !pending.result.isCompletedExceptionally()) {
          entry.recentEventIds.put(eventId.get(), pending.result);
        }
        return pending.result.copy();
      } finally {
        entry.lock.unlock();
      }
    }
  }

  /** See {@link Hub#delete}. */
  boolean delete(String jobId) {
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

  /**
   * The job's latest durable state: from the cache while the job is live and cached (a subscribe
   * storm then costs no store reads), else from the store. At least as new as every state the
   * broker has delivered to this node (see {@link #observe}).
   */
  Optional<Job> committed(String jobId) {
    JobEntry entry = entries.get(jobId);
    if (entry != null && entry.valid) {
      Job committed = entry.committed.get();
      if (committed != null) {
        return Optional.of(committed);
      }
    }
    return store.find(jobId);
  }

  /**
   * Learns of a state the broker delivered, before it is fanned out: the cache then never lags
   * behind what this node's subscribers were sent, and an idle job follows other nodes' changes, so
   * that its next event is built on the latest state instead of losing the race first. Never waits
   * for a job's lock: the broker's receiver must not block.
   */
  void observe(HubEvent event) {
    JobEntry entry = entries.get(event.jobId());
    if (entry == null) {
      return;
    }
    if (event instanceof HubEvent.JobUpdated updated) {
      entry.commit(updated.job());
    }
    if (!entry.lock.tryLock()) {
      return;
    }
    try {
      if (!entry.valid || entry.inFlight > 0 || entry.rebasing) {
        return;
      }
      switch (event) {
        case HubEvent.JobUpdated updated -> {
          Job job = updated.job();
          if (job.seq() > entry.state.seq()) {
            entry.state = job;
            if (job.isTerminal()) {
              invalidate(entry);
            }
          }
        }
        case HubEvent.JobRemoved removed -> invalidate(entry); // deleted through another node
      }
    } finally {
      entry.lock.unlock();
    }
  }

  private JobEntry entry(String jobId) {
    JobEntry cached = entries.get(jobId);
    if (cached != null) {
      return cached;
    }
    Job stored = store.find(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
    JobEntry loaded = new JobEntry(jobId, stored);
    loaded.commit(stored); // it came from the store: durable
    if (stored.isTerminal()) {
      return loaded; // every event on it is refused; no need to keep it
    }
    JobEntry raced = entries.putIfAbsent(jobId, loaded);
    return raced != null ? raced : loaded;
  }

  /**
   * Applies and hands on a newly published event; the rules' refusal is thrown at once. The refusal
   * is checked against the stored state first when another node may have moved the job on since
   * this node cached it (what is refused from one state may be allowed from a later one).
   */
  private void submitChecked(JobEntry entry, Pending pending) {
    try {
      submit(entry, pending);
    } catch (HubException refused) {
      if (entry.inFlight > 0 || !reloadedNewer(entry)) {
        throw refused;
      }
      submit(entry, pending);
    }
  }

  /** Reloads an idle entry from the store; whether the stored state was newer than the cached. */
  private boolean reloadedNewer(JobEntry entry) {
    Optional<Job> stored = store.find(entry.jobId);
    if (stored.isEmpty()) {
      invalidate(entry);
      throw HubException.jobNotFound(entry.jobId);
    }
    if (stored.get().seq() <= entry.state.seq()) {
      return false;
    }
    entry.state = stored.get();
    entry.commit(stored.get());
    if (stored.get().isTerminal()) {
      invalidate(entry);
    }
    return true;
  }

  /**
   * Applies the event to the entry's latest state and hands the result to the store. Called under
   * the entry's lock, so the store sees a job's events in seq order, and completes them (and the
   * broker gets them) in that order.
   */
  private void submit(JobEntry entry, Pending pending) {
    Job previous = entry.state;
    Job next = JobRules.apply(previous, pending.update, clock.instant(), limits);
    HubEvent.Change change = JobRules.change(previous, next);
    boolean transition = change != HubEvent.Change.TICK;
    // A state not yet seen durable is named: if it loses the race, the store refuses this one too.
    Optional<Job> builtOn =
        previous == entry.committed.get() ? Optional.empty() : Optional.of(previous);
    entry.state = next;
    entry.inFlight++;
    long handedOver = System.nanoTime();
    CompletableFuture<Void> durable;
    try {
      durable = store.append(new StoredEvent(next, transition, pending.update.eventId(), builtOn));
    } catch (RuntimeException e) {
      durable = CompletableFuture.failedFuture(e);
    }
    durable.whenComplete(
        (ignored, failure) ->
            completed(entry, pending, next, change, System.nanoTime() - handedOver, failure));
  }

  /** The store's answer to one append; runs in the order the appends were made. */
  private void completed(
      JobEntry entry,
      Pending pending,
      Job job,
      HubEvent.Change change,
      long storeNanos,
      Throwable failure) {
    boolean landed = false;
    entry.lock.lock();
    try {
      entry.inFlight--;
      if (failure == null) {
        entry.commit(job); // before the broadcast: a subscriber reading it is then not behind
        if (job.isTerminal()) {
          entries.remove(entry.jobId, entry);
        }
        landed = true;
      } else {
        HubException error = asHubException(failure);
        // Once one event lost the race, those pipelined behind it fail for want of it (the store
        // cannot tell that from a write that never landed): they are applied again with it.
        if (error.reason() == HubException.Code.STALE_SEQ || entry.rebasing) {
          if (++pending.staleRetries > MAX_STALE_RETRIES) {
            fail(entry, pending, contended(job, error));
          } else {
            // Applied again on the stored state once every append in flight has answered: those
            // were built on this one and fail too.
            metrics.staleSeqRetried();
            entry.waiting.add(pending);
            entry.rebasing = true;
          }
        } else {
          // The cached state is ahead of the store now: forget it, reload on next use.
          invalidate(entry);
          fail(entry, pending, error);
        }
      }
    } finally {
      entry.lock.unlock();
    }
    if (landed) {
      metrics.eventStored(change != HubEvent.Change.TICK, storeNanos);
      if (job.isTerminal()) {
        metrics.jobFinished(job);
      }
      broker.publish(new HubEvent.JobUpdated(job, change));
      pending.result.complete(job);
    }
    entry.lock.lock();
    try {
      rebaseIfReady(entry);
    } finally {
      entry.lock.unlock();
    }
  }

  /**
   * Once a stale event's entry has no append in flight: reloads the job from the store and applies
   * the waiting events to it again, oldest first. Under the entry's lock; appends answered at once
   * by the store re-enter it, and the loop on the stack carries on.
   */
  private void rebaseIfReady(JobEntry entry) {
    if (!entry.rebasing || entry.inFlight > 0 || entry.rebaseRunning) {
      return;
    }
    entry.rebaseRunning = true;
    try {
      while (entry.rebasing && entry.inFlight == 0) {
        entry.rebasing = false;
        Optional<Job> stored;
        try {
          stored = store.find(entry.jobId);
        } catch (RuntimeException e) {
          invalidate(entry);
          failWaiting(entry, asHubException(e));
          return;
        }
        if (stored.isEmpty()) {
          invalidate(entry);
          failWaiting(entry, HubException.jobNotFound(entry.jobId));
          return;
        }
        entry.state = stored.get();
        entry.commit(stored.get());
        if (stored.get().isTerminal()) {
          entries.remove(entry.jobId, entry); // the events below are refused; keep nothing
        }
        Pending next;
        while (!entry.rebasing && (next = entry.waiting.poll()) != null) {
          resubmit(entry, next);
        }
      }
    } finally {
      entry.rebaseRunning = false;
    }
  }

  private void resubmit(JobEntry entry, Pending pending) {
    try {
      Optional<String> eventId = pending.update.eventId();
      if (eventId.isPresent() && pending.staleRetries > 0) {
        // Its producer may have retried it through another node meanwhile.
        Optional<Job> applied = store.findByEventId(entry.jobId, eventId.get());
        if (applied.isPresent()) {
          pending.result.complete(applied.get());
          return;
        }
      }
      submit(entry, pending);
    } catch (RuntimeException e) {
      fail(entry, pending, asHubException(e));
    }
  }

  private void failWaiting(JobEntry entry, HubException error) {
    Pending next;
    while ((next = entry.waiting.poll()) != null) {
      fail(entry, next, error);
    }
  }

  /** Fails the producer's future; a retry of its event id is then applied afresh. */
  private void fail(JobEntry entry, Pending pending, HubException error) {
    metrics.eventRefused(error.reason());
    pending.update.eventId().ifPresent(id -> entry.recentEventIds.remove(id, pending.result));
    pending.result.completeExceptionally(error);
  }

  private void invalidate(JobEntry entry) {
    entry.valid = false;
    entries.remove(entry.jobId, entry);
  }

  private static HubException contended(Job job, HubException lastLoss) {
    return new HubException(
        HubException.Code.RATE_LIMITED,
        "job "
            + job.id()
            + " is changed through other nodes faster than this one can apply its event (lost the"
            + " race for its seq "
            + (MAX_STALE_RETRIES + 1)
            + " times); try again later",
        lastLoss,
        CONTENDED_RETRY_AFTER);
  }

  /** The result of a store future, or its failure as a {@link HubException}. */
  static <T> T await(CompletableFuture<T> future) {
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

  /** A published event not yet durable: its update, and the future its producer waits on. */
  private static final class Pending {
    /** Publish order within the job: events applied again keep it. */
    final long order;

    final JobUpdate update;
    final CompletableFuture<Job> result = new CompletableFuture<>();
    int staleRetries;

    Pending(long order, JobUpdate update) {
      this.order = order;
      this.update = update;
    }
  }

  /**
   * One unfinished job: its latest accepted state and the events on their way to the store (guarded
   * by the lock), and its latest durable state (read without the lock).
   */
  private static final class JobEntry {
    final String jobId;
    final ReentrantLock lock = new ReentrantLock();
    final AtomicReference<Job> committed = new AtomicReference<>();
    volatile boolean valid = true;

    /** The latest accepted state, maybe not durable yet. */
    Job state;

    /** Appends handed to the store whose answer has not come yet. */
    int inFlight;

    /** Events published so far; orders {@link #waiting}. */
    long published;

    /**
     * An event lost the race for its seq: the job is reloaded and the waiting events applied again
     * once no append is in flight. Until then new events wait too, so they keep their order.
     */
    boolean rebasing;

    /** The rebase loop is on the stack (appends answered at once re-enter it). */
    boolean rebaseRunning;

    final PriorityQueue<Pending> waiting =
        new PriorityQueue<>(Comparator.comparingLong(pending -> pending.order));

    final Map<String, CompletableFuture<Job>> recentEventIds =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<Job>> eldest) {
            return size() > RECENT_EVENT_IDS_PER_JOB;
          }
        };

    JobEntry(String jobId, Job state) {
      this.jobId = jobId;
      this.state = Objects.requireNonNull(state, "state");
    }

    /** A state is durable; completions and broadcasts may come late, but it never goes back. */
    void commit(Job job) {
      committed.accumulateAndGet(
          job, (known, durable) -> known == null || known.seq() < durable.seq() ? durable : known);
    }
  }
}
