package io.progresshub.core;

import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link JobStore} for fault tests: appends wait in a queue, as they do behind a real store's
 * writer thread, until {@link #release} hands them on, in order, to the store it wraps; the one
 * chosen with {@link #failOnce} fails instead of reaching it, as a write refused by the disk would.
 * With {@link #failReads}, {@code find} and {@code history} fail as a store out of reach does.
 */
final class FaultyJobStore implements JobStore {

  private record Pending(StoredEvent event, CompletableFuture<Void> done) {}

  private final JobStore inner;
  private final Queue<Pending> held = new ArrayDeque<>();
  private boolean holding;
  private String failJobId;
  private long failSeq;
  private volatile boolean failReads;

  FaultyJobStore(JobStore inner) {
    this.inner = inner;
  }

  /** From now on appends wait until {@link #release}. */
  synchronized void hold() {
    holding = true;
  }

  /** The next append of this job's {@code seq} fails with {@code store_unavailable}. */
  synchronized void failOnce(String jobId, long seq) {
    this.failJobId = jobId;
    this.failSeq = seq;
  }

  /** While on, {@code find} and {@code history} fail with {@code store_unavailable}. */
  void failReads(boolean on) {
    failReads = on;
  }

  private void checkReadable() {
    if (failReads) {
      throw HubException.unavailable("injected: store out of reach", null);
    }
  }

  /** Hands the oldest held append on; holding goes on. Returns whether there was one. */
  boolean releaseOne() {
    Pending next;
    synchronized (this) {
      next = held.poll();
    }
    if (next == null) {
      return false;
    }
    forward(next);
    return true;
  }

  /** Hands every held append on in order, and stops holding. */
  void release() {
    while (true) {
      Pending next;
      synchronized (this) {
        next = held.poll();
        if (next == null) {
          holding = false;
          return;
        }
      }
      forward(next);
    }
  }

  @Override
  public CompletableFuture<Void> append(StoredEvent event) {
    Pending pending = new Pending(event, new CompletableFuture<>());
    synchronized (this) {
      if (holding) {
        held.add(pending);
        return pending.done();
      }
    }
    forward(pending);
    return pending.done();
  }

  private void forward(Pending pending) {
    Job job = pending.event().job();
    boolean fail;
    synchronized (this) {
      fail = job.id().equals(failJobId) && job.seq() == failSeq;
      if (fail) {
        failJobId = null;
      }
    }
    if (fail) {
      pending.done().completeExceptionally(HubException.unavailable("injected: disk full", null));
      return;
    }
    inner
        .append(pending.event())
        .whenComplete(
            (ignored, failure) -> {
              if (failure != null) {
                pending.done().completeExceptionally(failure);
              } else {
                pending.done().complete(null);
              }
            });
  }

  @Override
  public Optional<Job> find(String jobId) {
    checkReadable();
    return inner.find(jobId);
  }

  @Override
  public List<Job> history(String jobId, long afterSeq, int limit) {
    checkReadable();
    return inner.history(jobId, afterSeq, limit);
  }

  @Override
  public Optional<Job> findByEventId(String jobId, String eventId) {
    return inner.findByEventId(jobId, eventId);
  }

  @Override
  public JobPage list(JobQuery query) {
    return inner.list(query);
  }

  @Override
  public Map<JobStatus, Long> countByStatus() {
    return inner.countByStatus();
  }

  @Override
  public CompletableFuture<Boolean> delete(String jobId) {
    return inner.delete(jobId);
  }

  @Override
  public List<String> deleteFinishedBefore(Instant cutoff) {
    return inner.deleteFinishedBefore(cutoff);
  }

  @Override
  public void close() {
    release();
    inner.close();
  }
}
