package io.progresshub.core;

import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link JobStore} in memory: for tests, embedding and development. Nothing survives a restart.
 */
public final class InMemoryJobStore implements JobStore {

  private final Map<String, Entry> jobs = new HashMap<>();
  private boolean closed;

  private static final class Entry {
    Job current;
    final TreeMap<Long, Job> history = new TreeMap<>();
    long lastTickSeq;
    final Map<String, Job> byEventId = new HashMap<>();
  }

  @Override
  public synchronized CompletableFuture<Void> append(StoredEvent event) {
    checkOpen();
    Job job = event.job();
    Entry entry = jobs.get(job.id());
    if (job.seq() == 1) {
      if (entry != null) {
        return CompletableFuture.failedFuture(HubException.jobExists(job.id()));
      }
      entry = new Entry();
      jobs.put(job.id(), entry);
    } else if (entry == null) {
      return CompletableFuture.failedFuture(HubException.jobNotFound(job.id()));
    } else {
      HubException refused = refusal(event, entry.current);
      if (refused != null) {
        return CompletableFuture.failedFuture(refused);
      }
    }
    entry.current = job;
    if (!event.transition()) {
      // Keep only the latest plain tick: it is enough to draw the job.
      if (entry.lastTickSeq > 0) {
        entry.history.remove(entry.lastTickSeq);
      }
      entry.lastTickSeq = job.seq();
    }
    entry.history.put(job.seq(), job);
    Entry target = entry;
    event.eventId().ifPresent(id -> target.byEventId.put(id, job));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized Optional<Job> find(String jobId) {
    checkOpen();
    Entry entry = jobs.get(jobId);
    return entry == null ? Optional.empty() : Optional.of(entry.current);
  }

  @Override
  public synchronized List<Job> history(String jobId, long afterSeq, int limit) {
    checkOpen();
    Entry entry = jobs.get(jobId);
    if (entry == null) {
      return List.of();
    }
    return entry.history.tailMap(afterSeq, false).values().stream().limit(limit).toList();
  }

  @Override
  public synchronized Optional<Job> findByEventId(String jobId, String eventId) {
    checkOpen();
    Entry entry = jobs.get(jobId);
    return entry == null ? Optional.empty() : Optional.ofNullable(entry.byEventId.get(eventId));
  }

  @Override
  public synchronized JobPage list(JobQuery query) {
    checkOpen();
    List<Job> matching = new ArrayList<>();
    for (Entry entry : jobs.values()) {
      Job job = entry.current;
      if (query.status().map(s -> s == job.status()).orElse(true)
          && query.owner().map(job.owner()::equals).orElse(true)
          && query.type().map(job.type()::equals).orElse(true)
          && query.idMatches(job.id())) {
        matching.add(job);
      }
    }
    matching.sort(
        Comparator.comparing(Job::createdAt)
            .reversed()
            .thenComparing(Job::id, Comparator.reverseOrder()));
    int from = Math.min(query.offset(), matching.size());
    int to = Math.min(from + query.limit(), matching.size());
    return new JobPage(matching.subList(from, to), matching.size());
  }

  @Override
  public synchronized Map<JobStatus, Long> countByStatus() {
    checkOpen();
    Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
    for (Entry entry : jobs.values()) {
      counts.merge(entry.current.status(), 1L, Long::sum);
    }
    return counts;
  }

  @Override
  public synchronized CompletableFuture<Boolean> delete(String jobId) {
    checkOpen();
    return CompletableFuture.completedFuture(jobs.remove(jobId) != null);
  }

  @Override
  public synchronized List<String> deleteFinishedBefore(Instant cutoff) {
    checkOpen();
    List<String> expired = new ArrayList<>();
    jobs.values()
        .removeIf(
            entry -> {
              Optional<Instant> finishedAt = entry.current.finishedAt();
              boolean old = finishedAt.isPresent() && finishedAt.get().isBefore(cutoff);
              if (old) {
                expired.add(entry.current.id());
              }
              return old;
            });
    return expired;
  }

  @Override
  public synchronized void close() {
    closed = true;
  }

  /** Why an event with seq > 1 may not follow {@code stored}, or null if it may. */
  private static HubException refusal(StoredEvent event, Job stored) {
    if (event.job().seq() != stored.seq() + 1) {
      return event.outOfOrder(stored.seq());
    }
    if (event.builtOn().isPresent() && !event.builtOn().get().equals(stored)) {
      return event.builtOnOther();
    }
    return null;
  }

  private void checkOpen() {
    if (closed) {
      throw HubException.unavailable("store is closed", null);
    }
  }
}
