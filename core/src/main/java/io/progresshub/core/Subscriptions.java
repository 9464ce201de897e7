package io.progresshub.core;

import io.progresshub.core.spi.HubMetrics;
import io.progresshub.core.spi.JobStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The subscriptions of this node, per job, and the fan-out of every state the broker carries to
 * them (the role of centrifuge's {@code hub.go}). A subscription first gets its replay and current
 * state on the subscribing thread, then live states from {@link #deliver}, with no seq twice and
 * none missing in between. Thread-safe.
 *
 * <p>When several nodes write one job, their states may reach this node out of seq order: each node
 * broadcasts its own after its commit, and the broker orders only what one node sends. A
 * subscription that gets a state beyond the next seq first reads what it missed from the store's
 * history (every transition and the latest tick), once per broadcast state however many
 * subscriptions need it; the late states are then dropped as already delivered. A single node
 * broadcasts in seq order and never reads. When that read fails (the store is unreachable), the
 * subscription stays at its last seq rather than skip what it missed, and the job is handed to
 * {@code behind} to be read again later.
 */
final class Subscriptions {

  private static final System.Logger LOG = System.getLogger(Subscriptions.class.getName());

  /** Replayed states handed to a subscriber before it is asked whether it can take more. */
  static final int REPLAY_PAGE = 64;

  /** Live states buffered during a replay before ticks among them are conflated. */
  private static final int BUFFERED_TICKS_KEPT = 4096;

  private final JobStore store;
  private final JobInterest interest;
  private final Function<String, Optional<Job>> committed;
  private final int maxReplay;
  private final HubMetrics metrics;
  private final Consumer<String> behind;

  /** Local subscriptions per job id. */
  private final ConcurrentHashMap<String, Set<HubSubscription>> topics = new ConcurrentHashMap<>();

  /**
   * @param committed the latest durable state of a job, as the hub knows it
   * @param maxReplay most history entries replayed to one subscriber
   * @param behind told of a job whose subscribers were held back by a failed read of what they
   *     missed; it should {@link #resync} them later
   */
  Subscriptions(
      JobStore store,
      JobInterest interest,
      Function<String, Optional<Job>> committed,
      int maxReplay,
      HubMetrics metrics,
      Consumer<String> behind) {
    this.store = store;
    this.interest = interest;
    this.committed = committed;
    this.maxReplay = maxReplay;
    this.metrics = metrics;
    this.behind = behind;
  }

  /** See {@link Hub#subscribe}. */
  Subscription subscribe(String jobId, OptionalLong since, Subscriber subscriber) {
    HubSubscription subscription = new HubSubscription(jobId, subscriber);
    // Register first and read after: a state committed meanwhile is either read or buffered.
    topics.compute(
        jobId,
        (id, set) -> {
          Set<HubSubscription> target = set;
          if (target == null) {
            target = ConcurrentHashMap.newKeySet();
            // Inside compute: the broker hears of one job's first and last subscriber in order.
            interest.acquire(id);
          }
          target.add(subscription);
          return target;
        });
    try {
      Job current = committed.apply(jobId).orElseThrow(() -> HubException.jobNotFound(jobId));
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

  /** Hands a broadcast state to every local subscriber of its job. */
  void deliver(HubEvent event) {
    Set<HubSubscription> subscribers = topics.get(event.jobId());
    if (subscribers == null) {
      return;
    }
    switch (event) {
      case HubEvent.JobUpdated updated -> {
        Backfill backfill = new Backfill(event.jobId());
        metrics.fannedOut(subscribers.size());
        for (HubSubscription subscription : subscribers) {
          try {
            subscription.live(updated, backfill);
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
   * The broker may have lost states of the job (see {@link
   * io.progresshub.core.spi.Broker#onMissed}): gives each subscriber what it has not had yet of
   * {@code stored}, just read from the store, as if it had just been broadcast. A job gone from the
   * store is removed for them.
   */
  void resync(String jobId, Optional<Job> stored) {
    Set<HubSubscription> subscribers = topics.get(jobId);
    if (subscribers == null) {
      return;
    }
    if (stored.isEmpty()) {
      deliver(new HubEvent.JobRemoved(jobId));
      return;
    }
    Backfill backfill = new Backfill(jobId);
    for (HubSubscription subscription : subscribers) {
      try {
        subscription.caughtUp(stored.get(), backfill);
      } catch (Throwable e) {
        failed(subscription, stored.get().seq(), e);
      }
    }
  }

  /** How many subscriptions are open on this node. */
  long count() {
    long subscriptions = 0;
    for (Set<HubSubscription> subscribers : topics.values()) {
      subscriptions += subscribers.size();
    }
    return subscriptions;
  }

  /** Whether the job has a subscription on this node. */
  boolean watches(String jobId) {
    return topics.containsKey(jobId);
  }

  /** How many jobs have at least one subscription on this node. */
  int watchedJobs() {
    return topics.size();
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

  /**
   * The retained states of one job missed before one broadcast state, read from the store at most
   * once for all the subscriptions that missed the same ones.
   */
  private final class Backfill {
    private final String jobId;
    private long readAfter = -1;
    private List<Job> read = List.of();
    private boolean failed;

    Backfill(String jobId) {
      this.jobId = jobId;
    }

    /**
     * Retained states with {@code afterSeq < seq < beforeSeq}, oldest first; empty when the store
     * cannot be read (then not tried again for this broadcast, and the job is handed to {@code
     * behind}).
     */
    synchronized Optional<List<Job>> between(long afterSeq, long beforeSeq) {
      if (failed) {
        return Optional.empty();
      }
      if (readAfter != afterSeq) {
        try {
          read = store.history(jobId, afterSeq, (int) Math.min(beforeSeq - afterSeq, maxReplay));
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "cannot read the states of job "
                  + jobId
                  + " after seq "
                  + afterSeq
                  + " that reached this node late; its subscribers wait for them",
              e);
          failed = true;
          behind.accept(jobId);
          return Optional.empty();
        }
        readAfter = afterSeq;
      }
      return Optional.of(read.stream().filter(job -> job.seq() < beforeSeq).toList());
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

    /** The state delivered last, or null while the subscriber's own {@code since} stands for it. */
    private Job last;

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
          last = current;
        }
        for (HubEvent.JobUpdated update : buffered) {
          deliverLive(update.job(), update.transition(), new Backfill(jobId));
        }
        buffered = null;
      }
    }

    void live(HubEvent.JobUpdated update, Backfill backfill) {
      synchronized (this) {
        if (closed) {
          return;
        }
        if (buffered != null) {
          int last = buffered.size() - 1;
          if (!update.transition()
              && last >= BUFFERED_TICKS_KEPT
              && !buffered.get(last).transition()) {
            // A long replay to a slow client: a newer tick replaces the one before it, so the
            // buffer grows with transitions only, not with every tick.
            buffered.set(last, update);
          } else {
            buffered.add(update);
          }
        } else {
          deliverLive(update.job(), update.transition(), backfill);
        }
      }
    }

    /** A state read from the store: delivered (after what it skipped) unless already had. */
    void caughtUp(Job stored, Backfill backfill) {
      synchronized (this) {
        if (closed) {
          return;
        }
        // Without the state before it, a transition cannot be told from a tick: say transition,
        // which is never conflated away.
        boolean transition =
            last == null || stored.seq() != last.seq() + 1 || JobRules.isTransition(last, stored);
        HubEvent.JobUpdated update =
            new HubEvent.JobUpdated(
                stored, transition ? HubEvent.Change.STATUS : HubEvent.Change.TICK);
        if (buffered != null) {
          buffered.add(update);
        } else if (stored.seq() > lastSeq) {
          deliverLive(stored, transition, backfill);
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

    /**
     * Delivers a live state, after what is missing between it and the last one delivered; nothing
     * when what is missing cannot be read (a later state, or the resync, brings it all).
     */
    private void deliverLive(Job job, boolean transition, Backfill backfill) {
      if (job.seq() > lastSeq + 1) {
        Job previous = last;
        Optional<List<Job>> read = backfill.between(lastSeq, job.seq());
        if (read.isEmpty()) {
          return; // skipping ahead would lose transitions for good
        }
        List<Job> missing = read.get();
        if (!missing.isEmpty()) {
          metrics.backfilled(missing.size());
        }
        for (Job missed : missing) {
          deliver(missed, false, previous == null || JobRules.isTransition(previous, missed));
          previous = missed;
        }
      }
      deliver(job, false, transition);
    }

    private void deliver(Job job, boolean replay, boolean transition) {
      if (job.seq() <= lastSeq) {
        return;
      }
      lastSeq = job.seq();
      last = job;
      subscriber.onJob(job, replay, transition);
    }

    @Override
    public void close() {
      closed = true;
      topics.computeIfPresent(
          jobId,
          (id, set) -> {
            set.remove(this);
            if (set.isEmpty()) {
              interest.release(id);
              return null;
            }
            return set;
          });
    }
  }
}
