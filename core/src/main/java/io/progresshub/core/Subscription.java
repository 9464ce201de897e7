package io.progresshub.core;

/** A live subscription to one job; {@link #close} stops it. Safe to close more than once. */
public interface Subscription extends AutoCloseable {

  String jobId();

  @Override
  void close();
}
