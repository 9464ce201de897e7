package io.progresshub.core;

import io.progresshub.core.spi.Broker;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The producer path: turns creates, events and deletes into durable states, and broadcasts each one
 * once the store made it durable. Keeps the latest state of every unfinished job it writes (a write
 * cache), so that an event is applied without reading the store first. Thread-safe.
 */
final class JobWriter {

  /** Producer retries arrive soon after the original; older ids are looked up in the store. */
  private static final int RECENT_EVENT_IDS_PER_JOB = 256;

  private final JobStore store;
  private final Broker broker;
  private final Clock clock;
  private final JobLimits limits;

  /** Jobs that are not finished, with their latest accepted state; loaded from the store. */
  private final ConcurrentHashMap<String, JobEntry> entries = new ConcurrentHashMap<>();

  JobWriter(JobStore store, Broker broker, Clock clock, JobLimits limits) {
    this.store = store;
    this.broker = broker;
    this.clock = clock;
    this.limits = limits;
  }

  /** See {@link Hub#create}. */
  Job create(NewJob request) {
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
   * storm then costs no store reads), else from the store.
   */
  Optional<Job> committed(String jobId) {
    JobEntry entry = entries.get(jobId);
    if (entry != null && entry.valid) {
      Job committed = entry.committed;
      if (committed != null) {
        return Optional.of(committed);
      }
    }
    return store.find(jobId);
  }

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
      this.state = Objects.requireNonNull(state, "state");
    }

    /** A state became durable; callbacks run in commit order, but never let it go backwards. */
    void commit(Job job) {
      Job previous = committed;
      if (previous == null || previous.seq() < job.seq()) {
        committed = job;
      }
    }
  }
}
