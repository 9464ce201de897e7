package io.progresshub.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Subscriber} for tests: records every callback in order, and notes any breach of the
 * subscriber contract (overlapping calls, anything before {@code onSubscribed} or after {@code
 * onRemoved}) so a test can assert there was none.
 */
final class RecordingSubscriber implements Subscriber {

  /** One delivered state. */
  record Delivery(Job job, boolean replay, boolean transition) {
    long seq() {
      return job.seq();
    }
  }

  private final List<Delivery> deliveries = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private final AtomicBoolean inCallback = new AtomicBoolean();
  private Job subscribedTo;
  private boolean recovered;
  private boolean removed;

  @Override
  public void onSubscribed(Job current, boolean recovered) {
    enter("onSubscribed");
    try {
      synchronized (this) {
        if (subscribedTo != null) {
          violations.add("onSubscribed twice");
        }
        if (!deliveries.isEmpty()) {
          violations.add("onSubscribed after a state");
        }
        this.subscribedTo = current;
        this.recovered = recovered;
      }
    } finally {
      exit();
    }
  }

  @Override
  public void onJob(Job job, boolean replay, boolean transition) {
    enter("onJob");
    try {
      synchronized (this) {
        if (subscribedTo == null) {
          violations.add("onJob(seq " + job.seq() + ") before onSubscribed");
        }
        if (removed) {
          violations.add("onJob(seq " + job.seq() + ") after onRemoved");
        }
        deliveries.add(new Delivery(job, replay, transition));
      }
    } finally {
      exit();
    }
  }

  @Override
  public void onRemoved(String jobId) {
    enter("onRemoved");
    try {
      synchronized (this) {
        if (removed) {
          violations.add("onRemoved twice");
        }
        removed = true;
      }
    } finally {
      exit();
    }
  }

  synchronized Optional<Job> subscribedTo() {
    return Optional.ofNullable(subscribedTo);
  }

  synchronized boolean recovered() {
    return recovered;
  }

  synchronized boolean removed() {
    return removed;
  }

  synchronized List<Delivery> deliveries() {
    return List.copyOf(deliveries);
  }

  synchronized List<Long> seqs() {
    return deliveries.stream().map(Delivery::seq).toList();
  }

  synchronized long lastSeq() {
    return deliveries.isEmpty() ? 0 : deliveries.getLast().seq();
  }

  synchronized Optional<Job> last() {
    return deliveries.isEmpty() ? Optional.empty() : Optional.of(deliveries.getLast().job());
  }

  synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  private void enter(String callback) {
    if (!inCallback.compareAndSet(false, true)) {
      synchronized (this) {
        violations.add(callback + " overlapped another callback");
      }
    }
  }

  private void exit() {
    inCallback.set(false);
  }
}
