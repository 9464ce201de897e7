package io.progresshub.redis;

import io.progresshub.core.Job;
import io.progresshub.core.Subscriber;
import java.util.List;

/** A subscriber that records the seq of every state it is given, replayed or live, in order. */
final class SeqRecorder implements Subscriber {

  private final List<Long> seen;

  /**
   * @param seen where the seqs go; a synchronized list, as delivery runs on another thread
   */
  SeqRecorder(List<Long> seen) {
    this.seen = seen;
  }

  @Override
  public void onSubscribed(Job current, boolean recovered) {}

  @Override
  public void onJob(Job job, boolean replay, boolean transition) {
    seen.add(job.seq());
  }

  @Override
  public void onRemoved(String jobId) {}
}
